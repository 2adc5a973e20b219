"""Tests of the performance work (issue #6): behaviour, never timings."""
