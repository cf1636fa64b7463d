"""The Qt-free core: the sample ring, events and settings."""
