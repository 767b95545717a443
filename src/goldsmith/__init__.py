"""goldsmith."""
