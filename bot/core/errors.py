"""The errors of what people typed: a whole input (UsageError) or one field (FieldError).
Slash commands, modals and the CLI raise and render them the same way."""

from __future__ import annotations


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
