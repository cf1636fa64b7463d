"""Checking the exam against the signal: the activity detector, the per-step checks and the segment summary.

Nothing here imports Qt; everything is fed chunks of one channel with their absolute sample indices.
"""
