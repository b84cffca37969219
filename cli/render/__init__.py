"""Output formats: Report -> text."""
