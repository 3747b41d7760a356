"""The one write path for deploys, incidents and changes (ARCHITECTURE.md "bot/recording").

Every source calls it: the slash commands, the GitHub webhook and sync, the demo. The
rules live here once:

- idempotency by (source, source_key): a request or delivery seen before changes nothing
  (`deploys.record`, `incidents.open_incident`); a report that supersedes an earlier one of
  the same source key replaces its facts (`deploys.record_latest`, GitHub's deployment
  statuses, the latest status winning);
- rollback checks: an explicit id or the previous successful deploy, of the same service,
  to the same environment (every production name is one production), never a failed
  attempt, never one that finished later;
- incident auto-link: the latest successful production deploy of the service that finished
  at or before the start, unless the reporter said `deploy=ID` or `deploy=none`; resolve,
  reopen and link;
- shipping commits to deploys (storage/shipping.py has the SQL; `changes` decides when);
- undo: within UNDO_HOURS from the channel it was recorded in, else admins only;
  incidents it caused are unlinked, and said so.

Functions that take `db` run inside the caller's write transaction (Store.write()), so
what belongs together (a webhook delivery's claim and its records, a sync page) is one
transaction. Times are UTC text from the caller's injected clock. Refusals are the domain
errors of bot/core/errors.py, rendered by each edge. Imports only storage and bot.core.
"""
