"""Anonymous pulse surveys: rounds, their schedule, results, DMs and answer listeners."""
