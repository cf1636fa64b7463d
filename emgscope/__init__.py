"""emgscope: a real-time needle-EMG monitor (not a cleared medical device)."""

__version__ = "0.1.0"
