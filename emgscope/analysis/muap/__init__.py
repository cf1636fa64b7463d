"""Motor unit potential (MUP) analysis: units found in a segment of needle EMG, measured and judged (QEMG §2-5).

:func:`~emgscope.analysis.muap.analyse.analyse_segment` is the entry point; :mod:`.model` holds its result,
:mod:`.edits` the clinician's changes to it and :mod:`.sidecar` the file it is saved in beside the recording.
"""
