"""Sources of samples (hardware, the simulated patient, replay) and the thread that pumps them."""
