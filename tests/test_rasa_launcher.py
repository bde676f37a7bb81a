"""bot/run_rasa.py starts Rasa with its action-response check built once (issue 12, a third of
Rasa's CPU per turn) and event types resolved by a table: both must decide exactly as Rasa's own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def run_in_rasa(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in the Rasa venv from the project root; it must exit cleanly."""
    python = ROOT / ".venv-rasa" / "bin" / "python"
    out = subprocess.run([str(python), "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out


CHECK = r"""
import sys
sys.path.insert(0, "bot")
import jsonschema
from rasa.core.actions.action import RemoteAction

responses = [
    {"events": [{"event": "slot", "name": "ip_type", "value": "patent"}], "responses": [{"text": "您好"}]},
    {"events": [], "responses": [{"custom": {"type": "answer", "citations": [{"law": "专利法"}]}}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "utter_x"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": ["not an object"]},
    {"events": [{"event": "slot"}]},
]
action = RemoteAction("action_answer_question", None)

def decisions():
    out = []
    for response in responses:
        try:
            out.append(action._validate_action_result(response))
        except jsonschema.ValidationError as exc:
            out.append("refused: " + ("rasa text" if "Failed to validate Action server response" in exc.message else "?"))
    return out

# every event type with every field set to each of a few values (valid and invalid): the launcher's
# per-type check must pass and refuse exactly the responses Rasa's oneOf does, with the same error
import itertools, random
from rasa.shared.utils.schemas.events import EVENT_SCHEMA
pool = [None, 1, 0.5, "x", True, [], {}, [{"entity": "city", "value": "深圳"}], [{"entity": 1}],
        {"intent": {"name": "greet", "confidence": 0.9}, "entities": [{"entity": "e"}]},
        {"response_selector": {"all_retrieval_intents": []}}]
rng = random.Random(20261130)
for sub in EVENT_SCHEMA["oneOf"]:
    kind = sub["properties"]["event"]["const"]
    fields = [f for f in [*sub["properties"], "timestamp", "metadata", "name", "value"] if f != "event"]
    for _ in range(40):
        event = {"event": kind}
        for field in rng.sample(fields, k=rng.randint(0, len(fields))):
            event[field] = rng.choice(pool)
        responses.append({"events": [event], "responses": [{"text": "好"}]})
    responses.append({"events": [{"event": kind}, {"event": "slot", "name": "a", "value": 1}]})
responses += [{"events": [{"event": 3}]}, {"events": [{"event": ["slot"]}]}, {"events": [{"event": None}]},
              {"events": [{"name": "x"}]}, {"events": None}, [], "text", {"events": [], "responses": "x"}]

def messages():
    out = []
    for response in responses:
        try:
            action._validate_action_result(response)
            out.append(None)
        except jsonschema.ValidationError as exc:
            out.append(exc.message)
    return out

before, before_messages = decisions(), messages()
import run_rasa
run_rasa.install()
after, after_messages = decisions(), messages()
assert after == before, [(r, b, a) for r, b, a in zip(responses, before, after) if a != b][:5]
assert after_messages == before_messages
assert before[:7].count(True) == 3 and before[:7].count("refused: rasa text") == 4, before[:7]
print(len(responses), "responses,", before.count(True), "accepted, the rest refused, as by Rasa")
assert 100 < before.count(True) < len(responses) - 100
"""


def test_the_launchers_response_check_decides_as_rasas_own() -> None:
    run_in_rasa(CHECK)


RESOLVE = r"""
import sys
sys.path.insert(0, "bot")
import rasa.shared.utils.common
from rasa.shared.core.events import Event, UserUttered

names = sorted({cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)})
before = {name: Event.resolve_by_type(name) for name in names}
import run_rasa
run_rasa.install()
after = {name: Event.resolve_by_type(name) for name in names}
assert after == before and len(names) > 20, (len(names), [n for n in names if after[n] is not before[n]])
assert Event.resolve_by_type("topic") is None
assert Event.resolve_by_type("no_such_event", default=UserUttered) is UserUttered
try:
    Event.resolve_by_type("no_such_event")
except ValueError as exc:
    assert "Unknown event name" in str(exc)
else:
    raise SystemExit("an unknown event name was accepted")
print(len(names), "event types resolved as before")
"""


def test_event_types_resolve_as_in_rasa() -> None:
    run_in_rasa(RESOLVE)


APPLIED = r"""
import copy, random, sys
sys.path.insert(0, "bot")
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, Restarted, SessionStarted,
    SlotSet, UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

original = DialogueStateTracker.applied_events
import run_rasa
run_rasa.install()
patched = DialogueStateTracker.applied_events
assert patched is not original
domain = Domain.load("bot/domain.yml")
forms = ["assistance_application_form", "other_form"]

def event(rng):
    kind = rng.random()
    if kind < 0.25:
        return UserUttered("问", {"name": "ask", "confidence": 1.0})
    if kind < 0.55:
        return ActionExecuted(rng.choice(forms + ["action_listen", "action_answer", "utter_greet"]))
    if kind < 0.68:
        return ActiveLoop(rng.choice(forms + [None]))
    if kind < 0.75:
        return ActionReverted()
    if kind < 0.82:
        return UserUtteranceReverted()
    if kind < 0.85:
        return rng.choice([Restarted(), SessionStarted()])
    return SlotSet("region", rng.choice(["广东", None]))

def same(a, b):
    return [id(e) for e in a] == [id(e) for e in b]

checked = 0
for seed in range(300):
    rng = random.Random(seed)
    tracker = DialogueStateTracker.from_events(f"s{seed}", [], domain.slots)
    for step in range(rng.randint(1, 120)):
        tracker.update(event(rng))
        if rng.random() < 0.5:
            assert same(patched(tracker), original(tracker)), (seed, step)
            checked += 1
        if rng.random() < 0.03:
            tracker = copy.deepcopy(tracker)
            assert same(patched(tracker), original(tracker)), (seed, step, "deepcopy")
    assert same(patched(tracker), original(tracker))
    again = DialogueStateTracker.from_events(tracker.sender_id, list(tracker.events), domain.slots)
    assert patched(again) == original(tracker)
print(checked, "comparisons")
"""


def test_applied_events_carried_forward_equal_rasas_own() -> None:
    """300 random conversations (forms opened and closed, undone turns, restarts, new sessions)
    compared after each step with Rasa's own computation."""
    out = run_in_rasa(APPLIED)
    assert int(out.stdout.split()[0]) > 5000


STATES = r"""
import copy, random, sys
sys.path.insert(0, "bot")
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, SessionStarted, SlotSet,
    UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

original = Domain.states_for_tracker_history
import run_rasa
run_rasa.install()
patched = Domain.states_for_tracker_history
assert patched is not original
domain = Domain.load("bot/domain.yml")
intents = domain.intents
actions = [a for a in domain.action_names_or_texts if not a.startswith("utter_") or a.endswith("greet")]
form = domain.form_names[0]
slots = [s.name for s in domain.slots if s.influence_conversation][:4] + [s.name for s in domain.slots][:3]
rule_only = {"rule_only_slots": slots[:1], "rule_only_loops": [form]}

def event(rng):
    kind = rng.random()
    if kind < 0.3:
        return UserUttered("问", {"name": rng.choice(intents), "confidence": 1.0},
                           entities=[{"entity": "ip_type", "value": "专利"}] if rng.random() < 0.2 else None)
    if kind < 0.65:
        name = rng.choice(actions + [form, "action_listen", "action_listen"])
        return ActionExecuted(name, hide_rule_turn=rng.random() < 0.3)
    if kind < 0.75:
        return ActiveLoop(rng.choice([form, None]))
    if kind < 0.79:
        return rng.choice([ActionReverted(), UserUtteranceReverted()])
    if kind < 0.8:
        return SessionStarted()
    return SlotSet(rng.choice(slots), rng.choice(["x", None, True]))

def finish(states, text):
    # what the featurizers do to the states they get
    if states:
        MaxHistoryTrackerFeaturizer()._choose_last_user_input([states], text)
    return states

checked = 0
for seed in range(150):
    rng = random.Random(seed)
    tracker = DialogueStateTracker.from_events(f"s{seed}", [], domain.slots)
    for step in range(rng.randint(1, 80)):
        tracker.update(event(rng))
        if rng.random() < 0.6:
            for omit, ignore, data in ((False, False, None), (True, True, rule_only), (False, True, dict(rule_only))):
                text = rng.random() < 0.5
                mine = finish(patched(domain, tracker, omit, ignore, data), text)
                rasa = finish(original(domain, tracker, omit, ignore, data), text)
                assert mine == rasa, (seed, step, omit, ignore)
                checked += 1
        if rng.random() < 0.03:
            tracker = copy.deepcopy(tracker)
print(checked, "comparisons")
"""


def test_dialogue_states_carried_forward_equal_rasas_own() -> None:
    """Random conversations over the real domain (form, slots, hidden rule turns, undone turns, new
    sessions), each policy's way of asking for states, compared after each step with Rasa's own,
    including after the featurizer has edited the states it was given."""
    out = run_in_rasa(STATES)
    assert int(out.stdout.split()[0]) > 2000


COPY = r"""
import random, sys
sys.path.insert(0, "bot")
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionExecutionRejected, ActiveLoop, BotUttered,
    ConversationPaused, ConversationResumed, FollowupAction, LoopInterrupted, Restarted, SessionStarted, SlotSet,
    UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

original = DialogueStateTracker.copy
import run_rasa
run_rasa.install()
patched = DialogueStateTracker.copy
assert patched is not original
domain = Domain.load("bot/domain.yml")
form = domain.form_names[0]
values = {"text": ["广东", "专利"], "bool": [True, False], "float": [1.0, 3.0], "categorical": [],
          "list": [["a"], ["a", "b"]], "any": [{"k": 1}]}

def event(rng):
    kind = rng.random()
    if kind < 0.2:
        return UserUttered("问", {"name": rng.choice(domain.intents), "confidence": 0.9}, parse_data={"text": "问"})
    if kind < 0.4:
        return ActionExecuted(rng.choice([form, "action_listen", "action_answer"]))
    if kind < 0.5:
        return ActiveLoop(rng.choice([form, None]))
    if kind < 0.75:
        slot = rng.choice(domain.slots)
        choices = values.get(slot.type_name) or getattr(slot, "values", None) or ["x"]
        return SlotSet(slot.name, rng.choice(list(choices) + [None]))
    return rng.choice([BotUttered("答"), FollowupAction("action_answer"), ConversationPaused(),
        ConversationResumed(), ActionExecutionRejected(form), LoopInterrupted(rng.random() < 0.5),
        UserUtteranceReverted(), Restarted(), SessionStarted()])

def state(t):
    return (t.current_state(EventVerbosity.ALL), [id(e) for e in t.events], t.sender_id, t.sender_source,
            t.is_rule_tracker, t._max_event_history, t._paused, t.followup_action, t.latest_action,
            t.latest_message, t.latest_bot_utterance, t.active_loop, t.model_id, t.assistant_id,
            {n: (type(s), vars(s)) for n, s in t.slots.items()})

checked = 0
for seed in range(200):
    rng = random.Random(seed)
    tracker = DialogueStateTracker.from_events(f"s{seed}", [], domain.slots)
    tracker.model_id = "m"
    for step in range(rng.randint(1, 60)):
        tracker.update(event(rng))
        if rng.random() < 0.5:
            before = state(tracker)
            mine, rasa = patched(tracker), original(tracker)
            assert state(mine) == state(rasa), (seed, step)
            assert mine.active_loop is None or mine.active_loop is not tracker.active_loop
            for _ in range(3):  # what an action does to its copy leaves the conversation as it was
                e = event(rng)
                mine.update(e)
                rasa.update(e)
            assert state(mine) == state(rasa), (seed, step, "after")
            assert state(tracker) == before, (seed, step, "original changed")
            checked += 1
print(checked, "comparisons")
"""


def test_tracker_copies_equal_rasas_own() -> None:
    """200 random conversations over the real domain (every slot type, forms, paused, rejected and
    interrupted loops, restarts): the copy an action runs on equals Rasa's replayed copy, before
    and after the action changes it, and changing it leaves the conversation untouched."""
    out = run_in_rasa(COPY)
    assert int(out.stdout.split()[0]) > 2000


LOG_COPIES = r"""
import ast, importlib, inspect, logging, sys
sys.path.insert(0, "bot")
import run_rasa

# the premise: in these modules ``copy`` is used only as copy.deepcopy(...) passed to structlogger.debug
for name in run_rasa.LOG_ONLY_COPIES:
    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "copy" and isinstance(parents[n], ast.Attribute)]
    assert uses, name
    for use in uses:
        attribute = parents[use]
        call = parents[attribute]
        assert attribute.attr == "deepcopy" and isinstance(call, ast.Call), (name, use.lineno)
        keyword = parents[call]
        debug = parents[keyword]
        assert isinstance(keyword, ast.keyword) and isinstance(debug, ast.Call), (name, use.lineno)
        assert ast.unparse(debug.func) == "structlogger.debug", (name, use.lineno, ast.unparse(debug.func))

run_rasa.install()
import rasa.core.processor as processor
value = {"states": [{"user": {"intent": "greet"}}]}
logging.getLogger("rasa").setLevel(logging.INFO)
assert processor.copy.deepcopy(value) is value  # not logged: not copied
logging.getLogger("rasa").setLevel(logging.DEBUG)
copied = processor.copy.deepcopy(value)
assert copied == value and copied is not value and copied["states"][0] is not value["states"][0]
print("ok")
"""


def test_debug_lines_that_are_not_logged_are_not_copied() -> None:
    """Rasa's deep copies for debug lines are skipped only where that is all they are for, and
    still made when debug logging is on."""
    run_in_rasa(LOG_COPIES)


LOCK = r"""
import sys, time
sys.path.insert(0, "bot")
from rasa.core.lock import TicketLock

def scenario():
    lock = TicketLock("c")
    dead = lock.issue_ticket(0.3)    # the replica that was killed mid-turn
    time.sleep(0.05)
    waiter = lock.issue_ticket(0.3)  # the replica taking the turn over, right after
    assert lock.is_locked(waiter) and not lock.is_locked(dead)
    time.sleep(0.5)                  # both expire before the waiter polls again
    return lock.is_locked(waiter)

original = scenario()
import run_rasa
run_rasa.install()
assert original is True, "Rasa's own lock no longer starves the waiter: re-check the launcher"
assert scenario() is False
# the usual rule is unchanged: the oldest unexpired ticket is served, the others wait
lock = TicketLock("d")
first, second = lock.issue_ticket(10), lock.issue_ticket(10)
assert not lock.is_locked(first) and lock.is_locked(second)
lock.remove_ticket_for(first)
assert not lock.is_locked(second)
print("ok")
"""


def test_a_turn_taken_over_from_a_dead_replica_gets_the_lock() -> None:
    """The replica that takes over a dead one's turn is not left waiting once every ticket expired."""
    run_in_rasa(LOCK)


KEPT = r"""
import asyncio, sys
sys.path.insert(0, "bot")
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
import run_rasa
run_rasa.install()

async def serve(peers, port=0):
    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "query": dict(request.query), "header": request.headers.get("X-Token")})

    async def broken(request):
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    app.router.add_post("/broken", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]

async def main():
    peers = []
    runner, port = await serve(peers)
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}", token="t0k", headers={"X-Token": "h"})
    first = await endpoint.request(json={"n": 1}, subpath="webhook")
    second = await endpoint.request(json={"n": 2}, subpath="webhook")
    # Rasa's request as before: token as a parameter, the endpoint's headers, the JSON body back
    assert first == second == {"events": [], "query": {"token": "t0k"}, "header": "h"}, first
    assert len(peers) == 2 and peers[0] == peers[1], peers  # one connection for both calls
    try:
        await endpoint.request(json={}, subpath="broken")
    except ClientResponseError as exc:
        assert exc.status == 500
    else:
        raise SystemExit("an HTTP 500 was not raised as Rasa raises it")
    # the action server goes away and comes back on the same port: the next call gets through
    await runner.cleanup()
    try:
        await endpoint.request(json={}, subpath="webhook")
    except Exception as exc:  # noqa: BLE001 (Rasa turns any client error into a failed action)
        assert "Connect" in type(exc).__name__ or "Disconnected" in type(exc).__name__, repr(exc)
    else:
        raise SystemExit("a call to a stopped server succeeded")
    runner, _ = await serve(peers, port)
    third = await endpoint.request(json={"n": 3}, subpath="webhook")
    assert third["query"] == {"token": "t0k"} and peers[-1] != peers[0], peers
    await runner.cleanup()
    print("kept:", peers)

asyncio.run(main())
"""


def test_action_server_calls_share_one_kept_connection_and_survive_a_restart() -> None:
    """Rasa's calls to the action server reuse one connection (issue 12) and still behave as Rasa's:
    same parameters, headers and errors, and a restarted server is reached again."""
    run_in_rasa(KEPT)


def test_domain_emptiness_is_decided_as_rasas_own_and_once() -> None:
    run_in_rasa(
        r"""
import sys
sys.path.insert(0, "bot")
from rasa.shared.core.domain import Domain
rasa_is_empty = Domain.is_empty
import run_rasa
run_rasa._domain_emptiness_once()
for domain in (Domain.load("bot/domain.yml"), Domain.empty(), Domain.from_dict({"intents": ["greet"]})):
    assert domain.is_empty() is rasa_is_empty(domain), domain
    assert domain.is_empty() is rasa_is_empty(domain)
# a copy (Rasa deep-copies domains) decides afresh and the same
loaded = Domain.load("bot/domain.yml")
import copy
assert copy.deepcopy(loaded).is_empty() is False and Domain.empty().is_empty() is True
# decided once: a second call does not serialise the domain again
def refuse():
    raise AssertionError("as_dict called again")
loaded.is_empty()
loaded.as_dict = refuse
assert loaded.is_empty() is False
"""
    )
