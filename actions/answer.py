"""Answer a question from the knowledge index with the graded policy (consult/policy.py).

The action only reads the tracker and writes events; searching and
deciding happen in the consultant, composing in consult/answers.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    channel_of,
    ip_type_entity,
    ip_type_slot,
    latest_intent,
    latest_user_text,
    never_silent,
    send,
    transcript,
)
from consult.answers import compose_answer, compose_clarify, compose_decline, compose_probable
from consult.followup import rewrite
from consult.handoff import NEEDS_PERSON_INTENTS, handoff_message
from consult.policy import Nlu
from consult.service import Outcome, get_consultant
from consult.vocabulary import ip_type_from_text
from core.messages import payload
from desk.tickets import open_ticket_for


def retrieval_summary(query: str, result: Any) -> dict[str, Any]:
    """What the expert sees of the bot's attempt: the query, confidence and passages."""
    return {
        "query": query,
        "confidence": round(result.confidence, 4),
        "version": result.version,
        "hits": [
            {"id": h.id, "title": h.title, "score": round(h.score, 5), "citations": h.citations, "text": h.text[:400]}
            for h in result.hits[:5]
        ],
    }


@never_silent
class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        consultant = get_consultant()
        intent, nlu_confidence = latest_intent(tracker)
        text = latest_user_text(tracker)
        if not text.strip():
            composed = compose_clarify(None)
            send(dispatcher, composed.text, composed.meta, composed.buttons)
            return [SlotSet("awaiting_clarification", True)]
        last_query = tracker.get_slot("last_query")
        slot_ip = ip_type_slot(tracker)
        new_ip = ip_type_entity(tracker)
        clarifying = bool(tracker.get_slot("awaiting_clarification"))
        adding = bool(tracker.get_slot("awaiting_details"))
        region = tracker.get_slot("region")

        context = intent == "ask_followup" or adding or (clarifying and bool(new_ip))
        query = rewrite(text, last_query, ip_type_slot(tracker, "last_ip_type"), new_ip or slot_ip) if context else text
        # a fresh question is searched without a filter (retrieval knows the type better than one entity);
        # a follow-up or a clarified question keeps the type the conversation is about
        ip_filter = (new_ip or slot_ip) if context else None
        ip_known = new_ip or ip_type_from_text(query) or slot_ip
        outcome = consultant.consult(
            text,
            query=query if context else None,
            nlu=Nlu(intent, nlu_confidence),
            ip_type=ip_filter,
            region=region,
            clarified=clarifying or adding,
        )
        result = outcome.result
        events: list[EventType] = [
            SlotSet("last_query", query),
            SlotSet("last_ip_type", ip_known),
            SlotSet("awaiting_details", False),
        ]
        tier = outcome.decision.tier
        # what the decision rested on, on every reply (analytics and `weiyuan eval dialogue`)
        basis = {
            "intent": intent,
            "nlu_confidence": nlu_confidence,
            "confidence": round(result.confidence, 4),
            "reason": outcome.decision.reason,
            "ip_probability": None if outcome.ip_probability is None else round(outcome.ip_probability, 4),
        }
        if tier in ("confident", "probable"):
            events += self._answer(dispatcher, consultant, outcome, intent, nlu_confidence)
            if outcome.decision.also_handoff or intent in NEEDS_PERSON_INTENTS:
                events += handoff(dispatcher, tracker, "needs_person", query, result, ip_known, region)
            return events
        if tier == "clarify":
            composed = compose_clarify(result, ip_known)
            send(dispatcher, composed.text, {**composed.meta, **basis}, composed.buttons)
            return [*events, SlotSet("awaiting_clarification", True)]
        if tier == "decline":
            composed = compose_decline()
            send(dispatcher, composed.text, {**composed.meta, **basis}, composed.buttons)
            return [*events, SlotSet("awaiting_clarification", False)]
        reason = "needs_person" if intent in NEEDS_PERSON_INTENTS else outcome.decision.reason
        handed = handoff(dispatcher, tracker, reason, query, result, ip_known, region, basis)
        return [*events, SlotSet("awaiting_clarification", False), *handed]

    @staticmethod
    def _answer(
        dispatcher: CollectingDispatcher,
        consultant: Any,
        outcome: Outcome,
        intent: str | None,
        nlu_confidence: float | None,
    ) -> list[EventType]:
        dialogue = consultant.settings.dialogue
        if outcome.decision.tier == "confident":
            composed = compose_answer(
                outcome.result,
                consultant.retriever,
                max_sources=dialogue.max_sources,
                max_related=dialogue.max_related,
                intent=intent,
                nlu_confidence=nlu_confidence,
                other_questions=outcome.other_questions,
            )
        else:
            composed = compose_probable(
                outcome.result,
                max_sources=dialogue.max_sources,
                intent=intent,
                nlu_confidence=nlu_confidence,
                other_questions=outcome.other_questions,
            )
        send(dispatcher, composed.text, composed.meta, composed.buttons)
        return [
            SlotSet("awaiting_clarification", False),
            SlotSet("last_confidence", outcome.result.confidence),
            SlotSet("last_answer_id", composed.meta["answer_id"]),
        ]


@never_silent
class ActionAskDetails(Action):
    """ "补充情况": ask for the missing facts; the next message is searched together with the question."""

    def name(self) -> str:
        return "action_ask_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(
            dispatcher,
            "好的，请补充说明：涉及哪一类权利（专利、商标、著作权……），对方做了什么、在哪里（哪个平台或地区），"
            "您手上有哪些材料，想达到什么目的。我会结合您刚才的问题重新查找。",
            payload("clarify", asks="details"),
        )
        return [SlotSet("awaiting_details", True)]


def handoff(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    query: str | None,
    result: Any | None,
    ip_type: str | None,
    region: str | None,
    basis: dict[str, Any] | None = None,
) -> list[EventType]:
    """Create the ticket (durably), then tell the user its number; one open ticket per conversation.

    ``basis``: what the decision rested on, added to the message's metadata.
    """
    consultant = get_consultant()
    existing = open_ticket_for(consultant.db, tracker.sender_id)
    if result is None and query and (existing is None or existing.kind != "handoff"):
        result = consultant.search_message(query)[1]  # what the expert sees of the bot's attempt
    eta = round(consultant.settings.desk.first_response_hours)
    if existing is not None and existing.kind == "handoff":
        text = (
            f"您的问题已经转给人工专家（工单号 {existing.number}），专家回复后会显示在这里；"
            "您在这期间发的消息也会一并转交。"
        )
        meta = payload("handoff", reason=reason, ticket={"number": existing.number}, existing=True)
        send(dispatcher, text, {**(basis or {}), **meta})
        return [SlotSet("handed_over", True), SlotSet("ticket_number", existing.number)]
    ticket = consultant.desk.open_ticket(
        kind="handoff",
        reason=reason,
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        ip_type=ip_type or ip_type_slot(tracker),
        region=region or tracker.get_slot("region"),
        transcript=transcript(tracker),
        retrieval=retrieval_summary(query or "", result) if result is not None else {},
    )
    text, meta = handoff_message(ticket, reason, eta)
    send(dispatcher, text, {**(basis or {}), **meta})
    return [SlotSet("handed_over", True), SlotSet("ticket_number", ticket.number)]
