"""Errors, in two families.

What people typed: a whole input (UsageError) or one field (FieldError). Slash commands,
modals and the CLI raise and render them the same way.

What the domain refuses (bot.recording raises these; each edge renders them, once):

    DomainError             base: `field` names the input it concerns, when one does
    ├── Invalid             a value the rules refuse: (field, reason, value)
    ├── NotFound            no such record: (kind, id)
    ├── NotAllowed          this person or source may not do it: (reason, record)
    └── Conflict            the request contradicts what is stored: (reason, record)

Reasons are the short stable codes of `Reason`; the fields carry what a rendering needs.
None of them holds finished prose: the words belong to whoever shows them.
"""

from __future__ import annotations

from enum import StrEnum


class UsageError(Exception):
    """The user's input was wrong: `problem` says what, `example` shows a correct form."""

    def __init__(self, problem: str, example: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = example


class FieldError(Exception):
    """One field's value is wrong; `key` names the option (and the modal's block)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


class Reason(StrEnum):
    """Why the domain refused, as stable codes (logs and tests may rely on them)."""

    NO_PREVIOUS_DEPLOY = "no_previous_deploy"  # a bare --rollback with nothing before it
    OTHER_SERVICE = "other_service"  # a rollback of another service's deploy
    OTHER_ENVIRONMENT = "other_environment"  # a rollback of another environment's deploy
    FAILED_ATTEMPT = "failed_attempt"  # a failed deploy named as rolled back or as a cause
    FINISHED_LATER = "finished_later"  # a rollback of a deploy that finished after it
    ALREADY_RESOLVED = "already_resolved"
    RESOLVED_BEFORE_START = "resolved_before_start"
    UNDO_NOT_ALLOWED = "undo_not_allowed"  # too old, another channel, or another source
    BAD_NAME = "bad_name"  # a team or service name outside bot.core.text.SERVICE
    NO_SERVICES = "no_services"  # a team set to no services at all
    TEAM_IN_USE = "team_in_use"  # a team removed while a channel's scope or summary names it


class DomainError(Exception):
    """A request the rules refuse; nothing was stored. `field` is the input it concerns
    (a modal shows the error on that field), or None."""

    field: str | None = None


class Invalid(DomainError):
    def __init__(self, field: str, reason: Reason, value: object) -> None:
        super().__init__(f"{field}: {reason} ({value!r})")
        self.field = field
        self.reason = reason
        self.value = value


class NotFound(DomainError):
    def __init__(self, kind: str, id: int, field: str | None = None) -> None:
        super().__init__(f"no {kind} #{id}")
        self.kind = kind
        self.id = id
        self.field = field


class NotAllowed(DomainError):
    def __init__(self, reason: Reason, record: object) -> None:
        super().__init__(f"{reason}: {record!r}")
        self.reason = reason
        self.record = record


class Conflict(DomainError):
    def __init__(self, reason: Reason, record: object, field: str | None = None) -> None:
        super().__init__(f"{reason}: {record!r}")
        self.reason = reason
        self.record = record
        self.field = field
