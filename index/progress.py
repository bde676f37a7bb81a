"""How long-running work (builds, refreshes) reports progress.

The CLI renders it as rich progress bars; the admin console streams the
same events to the browser.  The engine only calls this interface.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, key: str, label: str, total: int | None = None) -> None:
        """A new stage begins (``total`` units of work, or unknown)."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current stage are done."""

    def note(self, message: str) -> None:
        """A line of information for the person watching."""


class NullProgress:
    """Reports nothing (library use, tests)."""

    def stage(self, key: str, label: str, total: int | None = None) -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None

    def note(self, message: str) -> None:
        return None


class RecordingProgress:
    """Keeps every event (tests and the admin console's job log)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def stage(self, key: str, label: str, total: int | None = None) -> None:
        self.events.append(("stage", (key, label, total)))

    def advance(self, amount: int = 1) -> None:
        self.events.append(("advance", amount))

    def note(self, message: str) -> None:
        self.events.append(("note", message))
