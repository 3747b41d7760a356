"""The weekly summary: build it, chart it, post it exactly once, schedule it."""
