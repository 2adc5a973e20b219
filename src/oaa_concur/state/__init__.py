"""The state directory: credentials file, run lock, and the one writer of private files."""
