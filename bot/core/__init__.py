"""The pure kernel: clock, moments, windows, ISO weeks, errors and text rules; no I/O."""
