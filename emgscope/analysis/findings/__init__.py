"""The findings table of a needle exam: suggestions from the recording, the clinician's values, the results file."""
