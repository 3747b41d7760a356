"""The DORA numbers: pure definitions, the report, stability checks and their words."""
