"""Teams: named sets of services, reported on exactly as if they were one service, and the
channel scope that makes a plain `/dora` answer for a team or a service (SPEC.md "Teams")."""
