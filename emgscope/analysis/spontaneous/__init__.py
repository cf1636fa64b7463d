"""Spontaneous activity at rest: discharges found, sorted into trains, classified and graded (QEMG §6)."""
