"""PagerDuty as a source: Webhooks V3 incidents (SPEC.md "PagerDuty")."""
