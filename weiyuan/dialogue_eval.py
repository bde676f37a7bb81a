"""``weiyuan eval dialogue``: the evaluation questions through the real Rasa and action servers.

Every question is a new conversation on Rasa's REST channel, as the widget
sends it.  What the user would see is classified from the messages'
``custom`` payloads: answered (confident or probable tier) with a correct
source shown or without one, clarified, handed over, declined, or silent.
The private stack uses a throw-away data folder (tickets, tracker store)
that reads the serving index of ``var/`` and the trained Rasa model.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.messages import BotMessage, pair_rest_messages
from core.settings import Settings
from index.evaluate import Question, is_relevant_source
from weiyuan.sandbox import post_json, reading_settings

OUTCOMES = ("answered_correct", "answered_wrong", "clarified", "handed_over", "declined", "silent", "other")
OUTCOME_LABELS = {
    "answered_correct": "answered, correct source shown",
    "answered_wrong": "answered, no correct source",
    "clarified": "clarifying question",
    "handed_over": "handed over",
    "declined": "declined (not IP)",
    "silent": "silent",
    "other": "other",
}


@dataclass
class Turn:
    id: str
    set: str
    query: str
    ip_type: str
    in_domain: bool
    outcome: str
    tier: str | None
    latency_ms: float
    types: list[str]
    shown: list[str]
    #: what the reply rested on: DIET's intent and confidence, retrieval confidence, the policy's reason
    basis: dict[str, Any]


def classify(question: Question, messages: list[BotMessage]) -> tuple[str, str | None, list[str]]:
    """(outcome, tier, ids of the sources shown) for one reply."""
    types = [m.type for m in messages if m.type]
    if not messages:
        return "silent", None, []
    answer = next((m for m in messages if m.type == "answer"), None)
    if answer is not None:
        tier = str(answer.meta.get("tier") or "confident")
        sources = answer.meta.get("sources") or []
        judged = sources[:1] if tier == "confident" else sources
        correct = any(
            is_relevant_source(question, s.get("id", ""), s.get("kind", ""), s.get("citations") or []) for s in judged
        )
        return ("answered_correct" if correct else "answered_wrong"), tier, [s.get("id", "") for s in sources]
    if "clarify" in types:
        return "clarified", None, []
    if "handoff" in types:
        return "handed_over", None, []
    if "out_of_scope" in types:
        return "declined", None, []
    return "other", None, []


def _basis(messages: list[BotMessage]) -> dict[str, Any]:
    keys = ("intent", "nlu_confidence", "confidence", "reason")
    for message in messages:
        if any(k in message.meta for k in keys):
            return {k: message.meta.get(k) for k in keys}
    return {}


def run_questions(
    url: str,
    questions: list[tuple[str, Question]],
    progress: Callable[[int], None] | None = None,
) -> list[Turn]:
    """Ask every question in a new conversation; time each turn."""
    run = time.strftime("%H%M%S")
    turns = []
    for number, (name, question) in enumerate(questions, start=1):
        started = time.perf_counter()
        messages = pair_rest_messages(
            post_json(url, {"sender": f"eval-{run}-{question.id}", "message": question.query})
        )
        latency = (time.perf_counter() - started) * 1000
        outcome, tier, shown = classify(question, messages)
        turns.append(
            Turn(
                id=question.id,
                set=name,
                query=question.query,
                ip_type=question.ip_type or ("ood:" + (question.ood or "")),
                in_domain=question.in_domain,
                outcome=outcome,
                tier=tier,
                latency_ms=round(latency, 1),
                types=[m.type or "" for m in messages],
                shown=shown,
                basis=_basis(messages),
            )
        )
        if progress:
            progress(number)
    return turns


def _shares(turns: list[Turn]) -> dict[str, Any]:
    n = len(turns)
    counts = Counter(t.outcome for t in turns)
    out: dict[str, Any] = {"n": n}
    out.update({o: round(counts[o] / n, 4) if n else 0.0 for o in OUTCOMES})
    return out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarise(turns: list[Turn]) -> dict[str, Any]:
    """The figures of issue 8's goals, overall and per set and IP type."""
    summary: dict[str, Any] = {}
    for name in [*sorted({t.set for t in turns}), "all"]:
        chosen = [t for t in turns if name in ("all", t.set)]
        inside = [t for t in chosen if t.in_domain]
        outside = [t for t in chosen if not t.in_domain]
        confident = [t for t in inside if t.tier == "confident"]
        probable = [t for t in inside if t.tier == "probable"]
        per_type: dict[str, list[Turn]] = defaultdict(list)
        for t in inside:
            per_type[t.ip_type].append(t)
        per_ood: dict[str, list[Turn]] = defaultdict(list)
        for t in outside:
            per_ood[t.ip_type].append(t)
        latencies = [t.latency_ms for t in chosen]
        summary[name] = {
            "in_domain": _shares(inside),
            "out_of_domain": _shares(outside),
            "out_of_domain_answered": round(
                sum(t.outcome.startswith("answered") for t in outside) / max(len(outside), 1), 4
            ),
            "other_law_answered": round(
                sum(t.outcome.startswith("answered") for t in outside if t.ip_type == "ood:other_law")
                / max(sum(t.ip_type == "ood:other_law" for t in outside), 1),
                4,
            ),
            "confident": {
                "n": len(confident),
                "wrong_share": round(sum(t.outcome == "answered_wrong" for t in confident) / max(len(confident), 1), 4),
            },
            "probable": {
                "n": len(probable),
                "correct_share": round(
                    sum(t.outcome == "answered_correct" for t in probable) / max(len(probable), 1), 4
                ),
            },
            "by_ip_type": {k: _shares(v) for k, v in sorted(per_type.items())},
            "by_ood": {k: _shares(v) for k, v in sorted(per_ood.items())},
            "latency_ms": {
                "p50": round(statistics.median(latencies), 1) if latencies else 0.0,
                "p95": round(_percentile(latencies, 0.95), 1),
            },
        }
    return summary


def render_markdown(split: str, summary: dict[str, Any], command: str) -> str:
    """The report written next to the JSON (and quoted in docs/dialogue.md)."""
    lines = [f"# Dialogue evaluation: {split} split", "", f"Command: `{command}`", ""]
    head = "| set | n | " + " | ".join(OUTCOME_LABELS[o] for o in OUTCOMES) + " |"
    for scope in ("in_domain", "out_of_domain"):
        lines += [f"## {scope.replace('_', '-')} questions", "", head, "|" + "---|" * (len(OUTCOMES) + 2)]
        for name, figures in summary.items():
            row = figures[scope]
            lines.append(f"| {name} | {row['n']} | " + " | ".join(f"{row[o]:.1%}" for o in OUTCOMES) + " |")
        lines.append("")
    lines += [
        "## Goals",
        "",
        "| set | confident answers | confident without a correct source | probable answers | "
        "probable with a correct source | non-IP legal questions answered | all non-IP answered | p50 | p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in summary.items():
        lines.append(
            f"| {name} | {f['confident']['n']} | {f['confident']['wrong_share']:.1%} | {f['probable']['n']} | "
            f"{f['probable']['correct_share']:.1%} | {f['other_law_answered']:.1%} | "
            f"{f['out_of_domain_answered']:.1%} | {f['latency_ms']['p50']:.0f} ms | {f['latency_ms']['p95']:.0f} ms |"
        )
    lines += ["", "## In-domain questions per IP type (all sets)", "", head, "|" + "---|" * (len(OUTCOMES) + 2)]
    for ip_type, row in summary["all"]["by_ip_type"].items():
        lines.append(f"| {ip_type} | {row['n']} | " + " | ".join(f"{row[o]:.1%}" for o in OUTCOMES) + " |")
    return "\n".join(lines) + "\n"


def evaluate_dialogue(
    settings: Settings,
    questions: list[tuple[str, Question]],
    progress: Callable[[int], None] | None = None,
) -> list[Turn]:
    """Start a private Rasa server and action server, ask every question, stop them."""
    from weiyuan.stack import Stack, action_service, rasa_model, rasa_service

    model = rasa_model(settings)
    with tempfile.TemporaryDirectory(prefix="weiyuan-eval-") as tmp:
        private = reading_settings(settings, Path(tmp))
        with Stack(private, [action_service(private), rasa_service(private, model)]):
            url = f"http://{private.server.host}:{private.server.rasa_port}/webhooks/rest/webhook"
            return run_questions(url, questions, progress)


def write_results(out_dir: Path, split: str, turns: list[Turn], summary: dict[str, Any], command: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"dialogue_{split}.json").write_text(
        json.dumps({"summary": summary, "turns": [asdict(t) for t in turns]}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    report = out_dir / f"dialogue_{split}.md"
    report.write_text(render_markdown(split, summary, command), encoding="utf-8")
    return report
