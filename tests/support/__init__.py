"""What several test modules share: sources with known signals, the window opener, the null sink plugin."""
