"""Rasa's SQL tracker store with recently used conversations kept decoded in memory.

Rasa 3.6 loads a conversation on every turn by decoding every stored event's JSON, building
an event object for each and replaying them all into a new tracker.  A greeting as the 41st
turn of a conversation cost about twice the first (docs/benchmarks.md, issue 12).  Here the
tracker a turn saved is kept and handed to the next turn of the same conversation when the
database still holds exactly what it held after that save: the conversation's event count and
highest event id are read in one indexed query and compared.  Anything else (another replica
wrote, the retention job deleted old events, a turn failed before saving, a new session
started) falls back to Rasa's own load.  The database stays the only record; this is a cache.

Rasa's lock store serialises the turns of one conversation (in memory in the embedded profile,
Redis with replicas), so one tracker object is never used by two turns at once.

Runs in the Rasa venv (Python 3.10); configured in ``bot/endpoints*.yml`` as
``type: tracker_cache.CachedSQLTrackerStore`` (``bot/`` is on the launcher's path).
"""

from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


def _write_ahead_log(engine: Any) -> None:
    """SQLite in write-ahead-log mode, every commit still synced (``synchronous=FULL``).

    Rasa opens the file in SQLite's default rollback-journal mode: each turn's commit creates,
    syncs and deletes a journal file besides syncing the database.  In WAL mode a commit appends
    to one log and syncs it once: about a third of the CPU and of the wall time per commit
    (``python -m bench.sqlite_commit``: 0.37 -> 0.13 ms of CPU, 0.71 -> 0.25 ms wall), equally
    durable with ``synchronous=FULL``; and a turn's read no longer waits while the retention job
    (``desk/retention.py``) deletes old events.  The mode is stored in the file.  The same pragmas
    as the app's own database (``store/db.py``), which this Rasa-venv module cannot import.
    """

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    sa.event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened before the listener (table creation) are reopened with it


@dataclass
class _Entry:
    tracker: DialogueStateTracker
    events: int  # len(tracker.events) when it matched the database
    stored: tuple[int, int | None]  # (count, max id) of the conversation's rows then
    used: float


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that skips re-reading a conversation nobody else has changed."""

    def __init__(self, *args: Any, cache_size: int | str = 500, cache_seconds: float | str = 3600, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            _write_ahead_log(self.engine)
        self.cache_size = int(cache_size)
        self.cache_seconds = float(cache_seconds)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # the kept entry of each conversation being saved (saves of other conversations interleave)
        self._saving: dict[str, _Entry] = {}
        event = self.SQLEvent
        self._stored_query = sa.select(sa.func.count(event.id), sa.func.max(event.id)).where(
            event.sender_id == sa.bindparam("sender_id")
        )
        self.hits = 0
        self.misses = 0

    def _stored(self, session: Any, sender_id: str) -> tuple[int, int | None]:
        """The conversation's row count and highest id: one lookup on the ``sender_id`` index."""
        count, last = session.execute(self._stored_query, {"sender_id": sender_id}).one()
        return int(count or 0), last

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Any:
        """Rasa counts the stored events of the session to find the new ones; a kept tracker knows."""
        entry = self._saving.get(tracker.sender_id)
        if entry is not None and entry.tracker is tracker:
            return itertools.islice(tracker.events, entry.events, len(tracker.events))
        return super()._additional_events(session, tracker)

    def _expire(self, now: float) -> None:
        # least recently used first: drop what is idle too long (personal data) or over the size
        while self._entries:
            sender_id, entry = next(iter(self._entries.items()))
            if len(self._entries) <= self.cache_size and now - entry.used <= self.cache_seconds:
                break
            del self._entries[sender_id]

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker: the kept one if the database is as that turn left it."""
        if self.cache_size <= 0:
            return await super().retrieve(sender_id)
        now = time.monotonic()
        self._expire(now)
        entry = self._entries.pop(sender_id, None)
        with self.session_scope() as session:
            stored = self._stored(session, sender_id)
        if entry is not None and entry.stored == stored and len(entry.tracker.events) == entry.events:
            self.hits += 1
            entry.used = now
            self._entries[sender_id] = entry
            return entry.tracker
        self.misses += 1
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            with self.session_scope() as session:
                again = self._stored(session, sender_id)
            if again == stored:  # nothing was written while it loaded
                self._keep(_Entry(tracker, len(tracker.events), stored, now))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save; the tracker is kept only if it came from here and no new session began in it.

        A tracker that did not come from ``retrieve`` (a new conversation) or began a new session
        holds more than Rasa's next load would (that starts at the latest session), so the next
        turn loads it from the database as Rasa does, and keeps that.  The kept (count, max id)
        follows from what was inserted, without reading the table again: if another writer got in
        between, the next ``retrieve`` sees a different count and loads from the database.
        """
        entry = self._entries.pop(tracker.sender_id, None)
        known = entry is not None and entry.tracker is tracker
        appended = list(itertools.islice(tracker.events, entry.events, None)) if entry is not None and known else []
        if entry is not None and known:
            self._saving[tracker.sender_id] = entry
        try:
            ids = await self._insert_new_events(tracker)
        finally:
            self._saving.pop(tracker.sender_id, None)
        if entry is None or not known or self.cache_size <= 0:
            return
        if any(isinstance(event, SessionStarted) for event in appended):
            return
        count, last = entry.stored
        stored = (count + len(ids), max(ids) if ids else last)
        self._keep(_Entry(tracker, len(tracker.events), stored, time.monotonic()))

    async def _insert_new_events(self, tracker: DialogueStateTracker) -> list[int]:
        """``SQLTrackerStore.save`` of Rasa 3.6, line for line, returning the new rows' ids."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                rows.append(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.add_all(rows)
            session.flush()
            ids = [int(row.id) for row in rows]
            session.commit()
        return ids

    def _keep(self, entry: _Entry) -> None:
        self._entries[entry.tracker.sender_id] = entry
        self._expire(entry.used)
