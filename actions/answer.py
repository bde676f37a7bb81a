"""Answer a question from the knowledge index, always citing; clarify or hand over when unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel_of, entity, latest_intent, latest_user_text, send, transcript
from consult.answers import compose_answer, compose_clarify
from consult.followup import rewrite
from consult.handoff import NEEDS_PERSON_INTENTS, handoff_message
from consult.service import get_consultant


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


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        consultant = get_consultant()
        intent, nlu_confidence = latest_intent(tracker)
        text = latest_user_text(tracker)
        last_query = tracker.get_slot("last_query")
        slot_ip = tracker.get_slot("ip_type")
        new_ip = entity(tracker, "ip_type")
        region = tracker.get_slot("region")
        clarifying = tracker.get_slot("awaiting_clarification")

        if intent == "ask_followup" or (clarifying and new_ip):
            query = rewrite(text, last_query, tracker.get_slot("last_ip_type"), new_ip or slot_ip)
        else:
            query = text
        ip_type = new_ip or (slot_ip if intent == "ask_followup" or clarifying else None)
        outcome = consultant.consult(query, ip_type=ip_type, region=region, clarified=bool(clarifying))
        result = outcome.result
        events: list[EventType] = [SlotSet("last_query", query), SlotSet("last_ip_type", ip_type or slot_ip)]

        if outcome.decision == "answer":
            composed = compose_answer(
                result,
                consultant.retriever,
                max_sources=consultant.settings.dialogue.max_sources,
                max_related=consultant.settings.dialogue.max_related,
                intent=intent,
                nlu_confidence=nlu_confidence,
            )
            send(dispatcher, composed.text, composed.meta, composed.buttons)
            events += [
                SlotSet("awaiting_clarification", False),
                SlotSet("last_confidence", result.confidence),
                SlotSet("last_answer_id", composed.meta["answer_id"]),
            ]
            if intent in NEEDS_PERSON_INTENTS:
                events += handoff(dispatcher, tracker, "needs_person", query, result, ip_type, region)
            return events
        if outcome.decision == "clarify":
            composed = compose_clarify(result)
            send(dispatcher, composed.text, composed.meta, composed.buttons)
            return [*events, SlotSet("awaiting_clarification", True)]
        reason = "needs_person" if intent in NEEDS_PERSON_INTENTS else "low_confidence"
        handed = handoff(dispatcher, tracker, reason, query, result, ip_type, region)
        return [*events, SlotSet("awaiting_clarification", False), *handed]


def handoff(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    query: str | None,
    result: Any | None,
    ip_type: str | None,
    region: str | None,
) -> list[EventType]:
    """Create the ticket (durably), then tell the user its number."""
    consultant = get_consultant()
    ticket = consultant.desk.open_ticket(
        kind="handoff",
        reason=reason,
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        ip_type=ip_type or tracker.get_slot("ip_type"),
        region=region or tracker.get_slot("region"),
        transcript=transcript(tracker),
        retrieval=retrieval_summary(query or "", result) if result is not None else {},
    )
    eta = round(consultant.settings.desk.first_response_hours)
    text, meta = handoff_message(ticket, reason, eta)
    send(dispatcher, text, meta)
    return [SlotSet("handed_over", True), SlotSet("ticket_number", ticket.number)]
