"""The pure kernel: errors and text rules shared by commands and sources; no I/O."""
