"""bot/tracker_cache.py (issue 12): a kept conversation must be exactly what Rasa's own SQL tracker
store would load, and anything that changed the stored conversation must be seen.

Runs in the Rasa venv against a real SQLite tracker store; Rasa's plain ``SQLTrackerStore`` on the
same file is the reference (and plays another replica or the retention job).
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = r"""
import asyncio, sys, tempfile, time
sys.path.insert(0, "bot")
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
import tracker_cache

domain = Domain.load("bot/domain.yml")
db = tempfile.mktemp(suffix=".db")
cached = tracker_cache.CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db, cache_size="50")
plain = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)


def dump(tracker):
    return [e.as_dict() for e in tracker.events], tracker.current_slot_values()


async def turn(store, sender, text, slot=None):
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("你好"))
    if slot:
        tracker.update(SlotSet(*slot))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


async def same(sender):
    mine, rasa = await cached.retrieve(sender), await plain.retrieve(sender)
    assert dump(mine) == dump(rasa), (len(mine.events), len(rasa.events))
    return mine
"""


def run_in_rasa(body: str) -> str:
    script = (
        PRELUDE + "\nasync def main():\n" + textwrap.indent(textwrap.dedent(body), "    ") + "\nasyncio.run(main())\n"
    )
    python = ROOT / ".venv-rasa" / "bin" / "python"
    out = subprocess.run([str(python), "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def test_a_kept_conversation_is_what_rasa_would_load_and_is_not_reread() -> None:
    out = run_in_rasa(
        """
        for i in range(30):
            await turn(cached, "a", f"第{i}句", slot=("region", "广东") if i == 3 else None)
            mine = await same("a")
        misses = cached.misses
        for i in range(10):
            await turn(cached, "a", f"又一句{i}")
        assert cached.misses == misses and cached.hits >= 10, (cached.hits, cached.misses)
        mine = await same("a")
        assert mine.get_slot("region") == "广东"
        print("hits", cached.hits, "misses", cached.misses)
        """
    )
    assert "hits" in out


def test_what_another_replica_or_the_retention_job_changed_is_seen() -> None:
    run_in_rasa(
        """
        for i in range(5):
            await turn(cached, "b", f"第{i}句")
        await same("b")
        await turn(plain, "b", "另一个副本写的", slot=("region", "北京"))  # another Rasa server
        mine = await same("b")
        assert mine.get_slot("region") == "北京"
        # the retention job deletes the oldest events of the conversation
        import sqlite3
        con = sqlite3.connect(db)
        con.execute("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE sender_id='b' ORDER BY id LIMIT 3)")
        con.commit()
        await same("b")
        # everything deleted: the conversation is gone, not served from memory
        con.execute("DELETE FROM events WHERE sender_id='b'")
        con.commit()
        assert await cached.retrieve("b") is None
        """
    )


def test_a_turn_that_failed_before_saving_is_not_served_from_memory() -> None:
    run_in_rasa(
        """
        for i in range(3):
            await turn(cached, "c", f"第{i}句")
        tracker = await cached.retrieve("c")
        tracker.update(UserUttered("没存下来的一句", {"name": "greet", "confidence": 1.0}))  # then the turn fails
        mine = await same("c")
        assert "没存下来的一句" not in [e.get("text") for e in dump(mine)[0]]
        """
    )


def test_a_new_session_is_loaded_as_rasa_loads_it_and_saved_once() -> None:
    run_in_rasa(
        """
        for i in range(3):
            await turn(cached, "d", f"第{i}句")
        await same("d")
        tracker = await cached.retrieve("d")
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("新的会话", {"name": "greet", "confidence": 1.0}))
        await cached.save(tracker)
        await same("d")
        await turn(cached, "d", "新会话第二句")
        await turn(cached, "d", "新会话第三句")
        mine = await same("d")
        texts = [e.get("text") for e in dump(mine)[0] if e.get("event") == "user"]
        assert texts == ["新的会话", "新会话第二句", "新会话第三句"], texts
        full = await plain.retrieve_full_tracker("d")
        all_texts = [e.text for e in full.events if isinstance(e, UserUttered)]
        assert len(all_texts) == len(set(all_texts)) == 6, all_texts  # nothing stored twice
        """
    )


def test_memory_is_bounded_by_count_and_idle_time() -> None:
    run_in_rasa(
        """
        for i in range(60):
            await turn(cached, f"e{i}", "你好")
            await cached.retrieve(f"e{i}")
        assert len(cached._entries) <= 50
        cached.cache_seconds = 0.05
        time.sleep(0.1)
        await cached.retrieve("e0")
        assert len(cached._entries) <= 1
        off = tracker_cache.CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db, cache_size="0")
        await turn(off, "f", "你好")
        await off.retrieve("f")
        assert not off._entries
        """
    )


def test_the_sqlite_store_logs_ahead_and_syncs_every_commit() -> None:
    # a turn's commit is one synced append to the log, not a journal file created, synced and
    # deleted; the conversation reads back as Rasa's own store reads it
    run_in_rasa(
        """
        import sqlite3
        await turn(cached, "wal", "你好")
        with cached.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file
        await same("wal")
        """
    )
