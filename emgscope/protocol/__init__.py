"""Guided exams: protocol files, the step machine that runs them, and the annotations it stamps in samples.

Nothing here imports Qt: the GUI's prompt panel observes the runner through events, and a headless loop can run
a whole exam (with the simulated patient following the prompts) in a test or a benchmark.
"""
