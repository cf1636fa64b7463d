"""The Qt-free session at the centre: source connection, rings, recorder, audio monitor and guided exam."""
