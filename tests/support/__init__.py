"""Helpers shared by several test directories (plain modules: import them, not a conftest)."""
