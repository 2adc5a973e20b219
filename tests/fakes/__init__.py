"""Fakes of outside services and time for tests (Veza, Concur in process, the clock)."""
