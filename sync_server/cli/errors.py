"""How a command fails: one sentence on standard error and an exit status."""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(Exception):
    """A command that cannot do what was asked: `main` prints `error: <message>` and
    exits with `status` (2: a mistake in the input, such as the registry; 1: the rest)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status
