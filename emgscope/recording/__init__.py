"""Crash-safe recording of the raw signal to BDF+/EDF+ files, their repair after a crash, and teaching copies.

The recorder is its own thread on the raw ring's ``disk`` reader (:mod:`.recorder`); it writes data records
through :mod:`.writer`, which journals every annotation and the header facts to a sidecar (:mod:`.journal`) so
that :mod:`.repair` can rebuild a valid file after ``kill -9`` or a power cut. Nothing here imports Qt.
"""
