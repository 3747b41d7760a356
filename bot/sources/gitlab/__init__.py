"""GitLab as a source (SPEC.md "GitLab"): its webhook's deployments, pushes, merge requests
and incidents, recorded through bot.recording."""
