"""Settings and organisation configs."""
