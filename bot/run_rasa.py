"""Start Rasa (``python bot/run_rasa.py run …``, same arguments as ``rasa``) with the hot spots of a turn made cheap.

Profiled under load (py-spy, docs/benchmarks.md, issue 12), each replaced by an equivalent that
decides exactly as Rasa 3.6 does (tests/test_rasa_launcher.py compares them):

- every action-server response was checked with ``jsonschema.validate``, which re-checks the
  schema and builds a validator per call (a third of Rasa's CPU per turn): built once here,
  and each event checked against its own type's schema instead of all 23 (``_event_dispatch``);
- each stored event's class was found by walking every Event subclass: a table here;
- the applied events and each policy's dialogue states were recomputed from the whole
  conversation several times per turn: carried forward here (``_remember_applied_events``,
  ``_remember_dialogue_states``);
- the tracker copy each action runs on replayed every event: built from the current state;
- states, events and parse data were deep-copied for debug lines that are not logged: not copied
  unless debug logging is on;
- every call to the action server opened and closed its own HTTP session and connection: one
  kept-alive session per endpoint here (``_keep_action_server_connections``).

It also imports the tracker store the endpoints name (bot/tracker_cache.py), so that a failure to
import it stops the server instead of Rasa quietly keeping conversations in memory.  Runs in the
Rasa venv (Python 3.10).
"""

from __future__ import annotations

import itertools
import sys
from functools import lru_cache
from typing import Any


def install() -> None:
    """Replace ``RemoteAction._validate_action_result`` by the same check with cached validators."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    @lru_cache(maxsize=1)
    def validators() -> tuple[Any, Any]:
        schema = RemoteAction.action_response_format_spec()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        return cls(schema), _event_dispatch(schema, cls)

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        full, fast = validators()
        if fast is not None and fast(result):
            return True
        error = jsonschema.exceptions.best_match(full.iter_errors(result))
        if error is not None:  # what jsonschema.validate raises, with the text Rasa adds
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result
    _index_event_types()
    _remember_applied_events()
    _remember_dialogue_states()
    _copy_without_replay()
    _skip_copies_for_silent_debug_lines()
    _no_starved_lock_waiters()
    _keep_action_server_connections()
    _domain_emptiness_once()
    # bot/endpoints*.yml name this tracker store; Rasa would fall back to keeping conversations in
    # memory if it failed to import, so import it here, where a failure stops the server
    import tracker_cache  # noqa: F401


def _event_dispatch(schema: dict[str, Any], cls: Any) -> Any:
    """A check equal to ``schema``'s that validates each event against its own type's schema only.

    Rasa's event schema is a ``oneOf`` over 23 event schemas, each pinning ``event`` to one
    constant, so at most one of them can match an event: the one for its ``event`` value. The
    ``oneOf`` nevertheless validates every event against all 23 (7 % of Rasa's CPU per turn under
    load). Returns None (use the full check) if the schema is not of that shape. Only a *pass* is
    taken from this check; a failure is re-checked by the full validator, which raises the error
    Rasa would.
    """
    try:
        events = schema["properties"]["events"]
        event_schema = events["items"]
        subschemas = event_schema["oneOf"]
        by_type: dict[str, Any] = {}
        for sub in subschemas:
            const = sub["properties"]["event"]["const"]
            if not isinstance(const, str) or const in by_type:
                return None
            by_type[const] = cls(sub)
    except (KeyError, TypeError):
        return None
    base_event = {key: value for key, value in event_schema.items() if key != "oneOf"}
    base = cls({**schema, "properties": {**schema["properties"], "events": {**events, "items": base_event}}})

    def passes(result: Any) -> bool:
        if not base.is_valid(result):
            return False
        # here the result is an object and its events (if any) a list of objects with an "event"
        for event in result.get("events", ()):
            kind = event.get("event")
            validator = by_type.get(kind) if isinstance(kind, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True

    return passes


def _index_event_types() -> None:
    """``Event.resolve_by_type`` by a table instead of a walk over every Event subclass per event.

    Loading a tracker resolves each stored event's type by walking the whole class tree;
    in a 60-turn conversation that walk was 16 % of Rasa's CPU for a greeting.  The
    table keeps the walk's order (the first class with a name wins, as in Rasa) and is
    rebuilt when a name is missing, so a class defined later is still found.
    """
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    table: dict[str, type] = {}

    def build() -> None:
        table.clear()
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = table.get(type_name)
        if found is None:
            build()
            found = table.get(type_name)
        return found if found is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]


def _remember_applied_events() -> None:
    """``DialogueStateTracker.applied_events`` carried forward from the tracker's previous call.

    Rasa recomputes the applied events (what undo, restart and form events leave) from the
    whole conversation several times per turn: for each policy's dialogue states, the session
    expiry check and the form; with a form in the domain each step also scans back over what
    was applied, so the cost grows faster than the conversation.  In a long conversation it was
    a third of Rasa's CPU for a greeting.  The computation is a left fold over the events given
    the names of the forms that occur in them; events are only ever appended to a tracker, so
    the fold's result for the first ``n`` events is kept and only newer events are folded in,
    as long as those first ``n`` events are the same objects and no new form name appeared.
    Anything else (a capped event history, a rebuilt tracker) computes it as Rasa does.
    """
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.applied_events

    def fold(tracker: Any, applied: list[Any], loop_names: set[str], events: Any) -> list[Any]:
        # the loop body of Rasa 3.6's ``applied_events``, unchanged
        for event in events:
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                tracker._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                tracker._undo_till_previous(UserUttered, applied)
                tracker._undo_till_previous(ActionExecuted, applied)
            elif (
                isinstance(event, ActionExecuted)
                and event.action_name in loop_names
                and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
            ):
                tracker._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        return applied

    def names(events: Any) -> set[str]:
        return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}

    def applied_events(self: Any) -> list[Any]:
        events = self.events
        if events.maxlen is not None:
            return original(self)
        memo = self.__dict__.get("_weiyuan_applied")
        count = len(events)
        if memo is not None:
            seen, n, last, loop_names, applied = memo
            if seen is events and n <= count and (n == 0 or events[n - 1] is last):
                newer = list(itertools.islice(events, n, count))
                if names(newer) <= loop_names:
                    applied = fold(self, list(applied), loop_names, newer)
                    self.__dict__["_weiyuan_applied"] = (
                        events,
                        count,
                        events[-1] if count else None,
                        loop_names,
                        applied,
                    )
                    return list(applied)
        loop_names = names(events)
        applied = fold(self, [], loop_names, events)
        self.__dict__["_weiyuan_applied"] = (events, count, events[-1] if count else None, loop_names, applied)
        return list(applied)

    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]


def _remember_dialogue_states() -> None:
    """``Domain.states_for_tracker_history`` carried forward from the tracker's previous call.

    Each policy's prediction rebuilds the dialogue state before every action of the conversation
    by replaying all applied events into a fresh tracker (several times per turn; a fifth of
    Rasa's CPU for a greeting late in a long conversation).  Rasa's loop is a fold over the
    applied events; here the fold's replay tracker, states and loop variables are kept per
    tracker, domain and arguments, and continued when the applied events only grew (checked by
    identity of every earlier one); otherwise it starts over, as Rasa does.  The state after the
    last event is always computed afresh and not kept, and callers get copies of the kept states
    (sharing sub-states as Rasa's do), because Rasa's featurizers edit the states they are given.
    """
    from rasa.shared.core import constants
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted

    def step(
        domain: Any, tr: Any, hide: bool, loop: list[Any], states: list[Any], omit: bool, ignore: bool, rule_only: Any
    ) -> None:
        # the body of Rasa 3.6's loop, unchanged; ``loop`` holds last_ml_action_sub_state, turn_was_hidden
        if ignore:
            if not loop[1]:
                loop[0] = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
                loop[1] = hide
            if loop[1]:
                return
        state = domain.get_active_state(tr, omit_unset_slots=omit)
        if ignore:
            domain._remove_rule_only_features(state, rule_only)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if loop[0]:
                state[constants.PREVIOUS_ACTION] = loop[0]
        states.append(domain._clean_state(state))

    def states_for_tracker_history(
        self: Any,
        tracker: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Any = None,
    ) -> list[Any]:
        applied = tracker.applied_events()
        memos = tracker.__dict__.setdefault("_weiyuan_states", {})
        # RulePolicy builds its rule-only data afresh for each call: keyed by content
        rule_only = None if rule_only_data is None else repr(sorted(rule_only_data.items()))
        key = (id(self), omit_unset_slots, ignore_rule_only_turns, rule_only)
        memo = memos.get(key)
        if (
            memo is not None
            and memo["domain"] is self
            and len(memo["prefix"]) <= len(applied)
            and all(a is b for a, b in zip(memo["prefix"], applied, strict=False))
        ):
            tr, states, loop = memo["tracker"], memo["states"], memo["loop"]
            newer = applied[len(memo["prefix"]) :]
        else:
            tr, states, loop = tracker.init_copy(), [], [None, False]
            newer = applied
        for event in newer:
            if isinstance(event, ActionExecuted):
                step(
                    self,
                    tr,
                    event.hide_rule_turn,
                    loop,
                    states,
                    omit_unset_slots,
                    ignore_rule_only_turns,
                    rule_only_data,
                )
            tr.update(event)
        if key not in memos and len(memos) >= 8:
            memos.clear()
        memos[key] = {
            "domain": self,
            "prefix": applied,
            "tracker": tr,
            "states": states,
            "loop": loop,
        }
        kept = len(states)
        step(self, tr, False, list(loop), states, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        # copies that share sub-states where Rasa's do (a state's user input can be the one before
        # it, and a featurizer's edit of one shows in the other)
        copies: dict[int, dict[str, Any]] = {}
        result = [{name: copies.setdefault(id(sub), dict(sub)) for name, sub in state.items()} for state in states]
        del states[kept:]
        return result

    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]


def _copy_without_replay() -> None:
    """``DialogueStateTracker.copy`` without replaying the conversation.

    Rasa runs every action on a copy of the tracker (so a rejected action leaves no trace), and
    its copy replays every event into a new tracker: a growing share of each turn.  A tracker's
    state is what its events made it (Rasa's own rule for trackers), so the same copy is built
    here from the current state: the same event objects, slots copied with their values, the
    active loop copied, the rest referenced as a replay would reference it.  A tracker with a
    capped history or without declared slots is copied as Rasa does.
    """
    import copy as copying

    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.copy

    def fast_copy(self: Any) -> Any:
        if type(self) is not DialogueStateTracker or self.events.maxlen is not None or type(self.slots) is not dict:
            return original(self)
        new = self.init_copy()
        new.events.extend(self.events)
        new.slots = {name: copying.copy(slot) for name, slot in self.slots.items()}
        new._paused = self._paused
        new.followup_action = self.followup_action
        new.latest_action = self.latest_action
        new.latest_message = self.latest_message
        new.latest_bot_utterance = self.latest_bot_utterance
        new.active_loop = copying.copy(self.active_loop)
        return new

    DialogueStateTracker.copy = fast_copy  # type: ignore[method-assign]


#: Modules of Rasa 3.6 whose only use of ``copy`` is ``copy.deepcopy(x)`` as an argument of a
#: ``structlogger.debug`` call (tests/test_rasa_launcher.py checks their source).
LOG_ONLY_COPIES = ("rasa.core.processor", "rasa.core.policies.rule_policy", "rasa.core.policies.memoization")


def _skip_copies_for_silent_debug_lines() -> None:
    """No deep copies for debug lines nobody will see.

    Rasa 3.6 deep-copies the dialogue states, events and parse data of every turn only to pass
    them to ``structlogger.debug``, and Python evaluates the copy whether or not debug logging
    is on (about 8 % of Rasa's CPU per turn under load).  In the modules that do only that,
    ``copy.deepcopy`` is replaced by one that copies when the module's logger logs debug lines
    (``rasa run --debug``) and otherwise hands the value over uncopied, to be dropped.
    """
    import copy as copying
    import importlib
    import logging
    import types

    for name in LOG_ONLY_COPIES:
        module = importlib.import_module(name)
        logger = logging.getLogger(name)

        def deepcopy(value: Any, memo: Any = None, _logger: logging.Logger = logger) -> Any:
            return copying.deepcopy(value, memo) if _logger.isEnabledFor(logging.DEBUG) else value

        module.copy = types.SimpleNamespace(deepcopy=deepcopy)  # type: ignore[attr-defined]


def _keep_action_server_connections() -> None:
    """One HTTP client session per endpoint and event loop, its connections kept alive between turns.

    Rasa 3.6 opens a new ``aiohttp.ClientSession`` (and so a new TCP connection) for every call
    to the action server and closes it after the response: a connect, a sanic connection task
    and a teardown per action, on both sides, every turn.  Here ``EndpointConfig.session``
    hands out a shared session whose ``async with`` does not close it; requests, headers,
    parameters, timeouts and errors are Rasa's own.  Idle connections are dropped by aiohttp
    after 15 s, well before the action server's sanic drops them (120 s), so a request never
    goes out on a connection the server is closing; a connection to a server that died is
    noticed closed and a new one opened (the kill -9 tests in tests/test_faults.py).
    """
    import asyncio
    import atexit
    import contextlib
    import warnings

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    sessions: dict[tuple[Any, ...], aiohttp.ClientSession] = {}

    class _Kept:
        def __init__(self, session: aiohttp.ClientSession) -> None:
            self._session = session

        async def __aenter__(self) -> aiohttp.ClientSession:
            return self._session

        async def __aexit__(self, *exc: object) -> None:
            return None

    def session(self: Any) -> Any:
        loop = asyncio.get_running_loop()
        auth = tuple(sorted((self.basic_auth or {}).items()))
        key = (id(loop), tuple(sorted((self.headers or {}).items())), auth)
        kept = sessions.get(key)
        if kept is None or kept.closed or kept._loop is not loop:
            basic = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            )
            kept = aiohttp.ClientSession(
                headers=self.headers, auth=basic, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT)
            )
            sessions[key] = kept
        return _Kept(kept)

    def close_at_exit() -> None:  # no "Unclosed client session" lines when the server stops
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # aiohttp 3.9 closes synchronously and says to await it
            for kept in sessions.values():
                with contextlib.suppress(Exception):
                    if kept.connector is not None:
                        kept.connector.close()

    atexit.register(close_at_exit)
    EndpointConfig.session = session


def _domain_emptiness_once() -> None:
    """``Domain.is_empty`` decided once per domain instead of on every parsed message.

    Rasa 3.6 calls it for each message (``_check_for_unseen_features``) and answers it by
    serialising the whole domain to a dict and comparing it with an empty domain's: about 1 %
    of the Rasa server's busy time under load (py-spy, 20 users).  A served domain does not
    change; a new model brings a new ``Domain`` object.
    """
    from rasa.shared.core.domain import Domain

    rasa_is_empty = Domain.is_empty

    def is_empty(self: Any) -> bool:
        known = self.__dict__.get("_weiyuan_is_empty")
        if known is None:
            known = self.__dict__["_weiyuan_is_empty"] = rasa_is_empty(self)
        return bool(known)

    Domain.is_empty = is_empty  # type: ignore[method-assign]


def _no_starved_lock_waiters() -> None:
    """A turn waiting for a conversation's lock is not starved when every ticket has expired.

    Rasa's ``TicketLock`` serves the oldest unexpired ticket.  When a replica dies holding a
    conversation's lock, the replica that takes the turn over issues a ticket right after it
    (the gateway fails over in milliseconds); the dead ticket expires, then the waiter's own a
    moment later, and the waiter (polling once a second) usually misses that moment: with no
    ticket left, ``now_serving`` is 0 and Rasa reports the lock as taken until the client gives
    up (CI, 2026-11-30: a message waited 60 s and got a 502).  With no unexpired ticket nobody
    holds the lock, so here it is free; otherwise Rasa's rule is unchanged.
    """
    from rasa.core.lock import TicketLock

    def is_locked(self: Any, ticket_number: int) -> bool:
        serving = self._ticket_number_for(0)
        return serving is not None and serving != ticket_number

    TicketLock.is_locked = is_locked  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    sys.exit(main())
