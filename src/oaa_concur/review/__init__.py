"""Access review without Veza: the snapshot store, findings and rules, reports and diffs."""
