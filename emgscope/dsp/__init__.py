"""Signal processing: clinical filters."""
