"""Reading recordings written by any program, and replaying them as a source like any other.

:mod:`.reader` opens a file (EDF/EDF+/BDF/BDF+ in :mod:`.edf`, PhysioNet WFDB in :mod:`.wfdb_record`, BrainFlow data
files in :mod:`.brainflow_file`); :mod:`.source` plays one through the acquisition pump; :mod:`.recent` remembers
the last few. Nothing here imports Qt.
"""
