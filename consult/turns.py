"""One turn of a consultation: what the bot says and what it remembers, from what it knows of the conversation.

The Rasa actions translate a tracker into a :class:`TurnState` and a
:class:`TurnResult` back into messages and slot events; everything in between
(follow-up rewriting, carrying the IP type over, the graded answer policy, the
hand-over with its ticket) lives here, so it can be tested without Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from consult.answers import compose_answer, compose_clarify, compose_decline, compose_probable
from consult.feedback import NOT_HELPFUL, record_feedback
from consult.followup import rewrite
from consult.forms import FORM
from consult.handoff import NEEDS_PERSON_INTENTS, handoff_message
from consult.policy import Nlu
from consult.service import Consultant, Outcome
from consult.vocabulary import ip_type_from_text
from core.messages import check_meta, payload
from desk.tickets import open_ticket_for, tickets_from_client
from index.results import SearchResult


@dataclass(frozen=True)
class TurnState:
    """What the dialogue layer knows at this turn (IP types already canonical)."""

    conversation_id: str
    text: str
    intent: str | None = None
    nlu_confidence: float | None = None
    channel: str = "rest"
    transcript: list[dict[str, Any]] = field(default_factory=list)
    #: the IP type named in this message, and the ones the conversation carries
    new_ip_type: str | None = None
    ip_type: str | None = None
    last_ip_type: str | None = None
    last_query: str | None = None
    region: str | None = None
    awaiting_clarification: bool = False
    awaiting_details: bool = False
    #: the website client, pseudonymised by the gateway (for the per-client ticket limit)
    client_ref: str | None = None


@dataclass(frozen=True)
class Reply:
    """One bot message: text, buttons and the machine-readable payload."""

    text: str
    meta: dict[str, Any]
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class TurnResult:
    replies: list[Reply] = field(default_factory=list)
    #: slot values to set (in order); the dialogue layer turns them into events
    slots: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str, meta: dict[str, Any], buttons: list[dict[str, str]] | None = None) -> None:
        self.replies.append(Reply(text, check_meta(meta), buttons or []))

    def extend(self, other: TurnResult) -> TurnResult:
        self.replies += other.replies
        self.slots.update(other.slots)
        return self


class ConsultationService(Protocol):
    """What the Rasa actions need (the real one is :class:`Turns`; unit tests pass a fake)."""

    def answer(self, state: TurnState) -> TurnResult: ...

    def hand_over(self, state: TurnState, reason: str, query: str | None = None) -> TurnResult: ...

    def apologise(self, state: TurnState, error_id: str) -> TurnResult: ...

    def feedback(self, state: TurnState, last_answer_id: str | None) -> TurnResult: ...

    def submit_application(self, state: TurnState, fields: dict[str, Any]) -> TurnResult: ...


def retrieval_summary(query: str, result: SearchResult) -> dict[str, Any]:
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


ERROR_TEXT = "抱歉，系统处理您的消息时出了点问题（错误编号 {error_id}）"


class Turns:
    """The consultation as the dialogue layer uses it, over one :class:`Consultant`."""

    def __init__(self, consultant: Consultant) -> None:
        self.consultant = consultant

    @property
    def eta_hours(self) -> int:
        return round(self.consultant.settings.desk.first_response_hours)

    def over_ticket_limit(self, state: TurnState) -> bool:
        """This website client already opened ``desk.tickets_per_client_per_day`` tickets today."""
        if not state.client_ref:
            return False
        limit = self.consultant.settings.desk.tickets_per_client_per_day
        return tickets_from_client(self.consultant.db, state.client_ref) >= limit

    @staticmethod
    def refuse_ticket(out: TurnResult) -> TurnResult:
        out.say(
            "今天从您这里提交的人工请求已经比较多了，专家会按顺序处理已经提交的请求，暂时不能再新建。"
            "如果情况紧急，请拨打 12330 知识产权维权援助热线；您也可以继续在这里向我提问。",
            payload("info", limited="tickets_per_client"),
        )
        return out

    def answer(self, state: TurnState) -> TurnResult:
        """Answer a question with the graded policy; a follow-up is searched with what came before."""
        out = TurnResult()
        text = state.text
        if not text.strip():
            composed = compose_clarify(None)
            out.say(composed.text, composed.meta, composed.buttons)
            out.slots["awaiting_clarification"] = True
            return out
        new_ip, slot_ip = state.new_ip_type, state.ip_type
        context = (
            state.intent == "ask_followup" or state.awaiting_details or (state.awaiting_clarification and bool(new_ip))
        )
        query = rewrite(text, state.last_query, state.last_ip_type, new_ip or slot_ip) if context else text
        # a fresh question is searched without a filter (retrieval knows the type better than one entity);
        # a follow-up or a clarified question keeps the type the conversation is about
        ip_filter = (new_ip or slot_ip) if context else None
        ip_known = new_ip or ip_type_from_text(query) or slot_ip
        outcome = self.consultant.consult(
            text,
            query=query if context else None,
            nlu=Nlu(state.intent, state.nlu_confidence),
            ip_type=ip_filter,
            region=state.region,
            clarified=state.awaiting_clarification or state.awaiting_details,
        )
        result = outcome.result
        out.slots.update({"last_query": query, "last_ip_type": ip_known, "awaiting_details": False})
        tier = outcome.decision.tier
        # what the question is about, on every reply of the turn (the analytics dashboard counts it)
        topic = {"ip_type": ip_known, "region": state.region}
        # what the decision rested on, on every reply (analytics and `weiyuan eval dialogue`)
        basis = {
            "intent": state.intent,
            "nlu_confidence": state.nlu_confidence,
            "confidence": round(result.confidence, 4),
            "reason": outcome.decision.reason,
            "ip_probability": None if outcome.ip_probability is None else round(outcome.ip_probability, 4),
            **topic,
        }
        if tier in ("confident", "probable"):
            self._answer(out, outcome, state, topic)
            if outcome.decision.also_handoff or state.intent in NEEDS_PERSON_INTENTS:
                out.extend(self._hand_over(state, "needs_person", query, result, ip_known, state.region))
            return out
        if tier == "clarify":
            composed = compose_clarify(result, ip_known)
            out.say(composed.text, {**composed.meta, **basis}, composed.buttons)
            out.slots["awaiting_clarification"] = True
            return out
        if tier == "decline":
            composed = compose_decline()
            out.say(composed.text, {**composed.meta, **basis}, composed.buttons)
            out.slots["awaiting_clarification"] = False
            return out
        reason = "needs_person" if state.intent in NEEDS_PERSON_INTENTS else outcome.decision.reason
        out.slots["awaiting_clarification"] = False
        return out.extend(self._hand_over(state, reason, query, result, ip_known, state.region, basis))

    def _answer(self, out: TurnResult, outcome: Outcome, state: TurnState, topic: dict[str, Any]) -> None:
        dialogue = self.consultant.settings.dialogue
        if outcome.decision.tier == "confident":
            composed = compose_answer(
                outcome.result,
                self.consultant.retriever,
                max_sources=dialogue.max_sources,
                max_related=dialogue.max_related,
                quote_chars=dialogue.quote_chars,
                intent=state.intent,
                nlu_confidence=state.nlu_confidence,
                other_questions=outcome.other_questions,
            )
        else:
            composed = compose_probable(
                outcome.result,
                max_sources=dialogue.max_sources,
                intent=state.intent,
                nlu_confidence=state.nlu_confidence,
                other_questions=outcome.other_questions,
            )
        out.say(composed.text, {**composed.meta, **topic}, composed.buttons)
        out.slots.update(
            {
                "awaiting_clarification": False,
                "last_confidence": outcome.result.confidence,
                "last_answer_id": composed.meta["answer_id"],
            }
        )

    def hand_over(self, state: TurnState, reason: str, query: str | None = None) -> TurnResult:
        """A person takes over (on request, NLU fallback, not-helpful feedback)."""
        return self._hand_over(state, reason, query, None, state.new_ip_type, None)

    def _hand_over(
        self,
        state: TurnState,
        reason: str,
        query: str | None,
        result: SearchResult | None,
        ip_type: str | None,
        region: str | None,
        basis: dict[str, Any] | None = None,
    ) -> TurnResult:
        """Create the ticket (durably), then tell the user its number; one open ticket per conversation."""
        consultant = self.consultant
        out = TurnResult()
        existing = open_ticket_for(consultant.db, state.conversation_id)
        if result is None and query and (existing is None or existing.kind != "handoff"):
            result = consultant.search_message(query)[1]  # what the expert sees of the bot's attempt
        if existing is not None and existing.kind == "handoff":
            text = (
                f"您的问题已经转给人工专家（工单号 {existing.number}），专家回复后会显示在这里；"
                "您在这期间发的消息也会一并转交。"
            )
            meta = payload("handoff", reason=reason, ticket={"number": existing.number}, existing=True)
            out.say(text, {**(basis or {}), **meta})
            out.slots.update({"handed_over": True, "ticket_number": existing.number})
            return out
        if self.over_ticket_limit(state):
            return self.refuse_ticket(out)
        ticket = consultant.desk.open_ticket(
            kind="handoff",
            reason=reason,
            conversation_id=state.conversation_id,
            client_ref=state.client_ref,
            channel=state.channel,
            ip_type=ip_type or state.ip_type,
            region=region or state.region,
            transcript=state.transcript,
            retrieval=retrieval_summary(query or "", result) if result is not None else {},
        )
        text, meta = handoff_message(ticket, reason, self.eta_hours)
        topic = {"ip_type": ticket.ip_type, "region": ticket.region}
        out.say(text, {**(basis or {}), **topic, **meta})
        out.slots.update({"handed_over": True, "ticket_number": ticket.number})
        return out

    def apologise(self, state: TurnState, error_id: str) -> TurnResult:
        """After a failure: a ticket that records the error id, so a person picks the conversation up."""
        out = TurnResult()
        ticket = self.consultant.desk.open_ticket(
            kind="handoff",
            reason="error",
            conversation_id=state.conversation_id,
            channel=state.channel,
            transcript=state.transcript,
            retrieval={"error_id": error_id, "query": state.text[:500]},
        )
        why = ERROR_TEXT.format(error_id=error_id)
        handed, meta = handoff_message(ticket, "error", self.eta_hours, why=why)
        out.say(handed, {**meta, "error_id": error_id})
        out.slots.update({"handed_over": True, "ticket_number": ticket.number})
        return out

    def feedback(self, state: TurnState, last_answer_id: str | None) -> TurnResult:
        """Free-text feedback is recorded; "that did not help" after an answer hands over."""
        record_feedback(
            self.consultant.db,
            state.conversation_id,
            last_answer_id,
            0,
            state.text,
            {"last_query": state.last_query or ""},
        )
        out = TurnResult()
        if last_answer_id and NOT_HELPFUL.search(state.text):
            out.say("抱歉刚才的回答没能帮到您，谢谢您告诉我。", payload("info", recorded="feedback"))
            return out.extend(self.hand_over(state, "not_helpful", state.last_query or state.text))
        out.say("谢谢您的反馈！我们会认真查看，用来改进回答。", payload("info", recorded="feedback"))
        return out

    def submit_application(self, state: TurnState, fields: dict[str, Any]) -> TurnResult:
        """Write the assistance application durably, then give its number and what happens next."""
        if self.over_ticket_limit(state):
            return self.refuse_ticket(TurnResult())
        ticket = self.consultant.desk.open_ticket(
            kind="application",
            reason="application",
            conversation_id=state.conversation_id,
            client_ref=state.client_ref,
            channel=state.channel,
            ip_type=state.ip_type,
            region=state.region,
            transcript=state.transcript,
            fields={**fields, "consent": True},
        )
        hours = self.eta_hours
        out = TurnResult()
        out.say(
            f"您的维权援助申请已提交，申请编号 {ticket.number}。\n"
            f"工作人员会在 {hours} 小时内（工作时间）通过您留下的电话联系您，核实情况并告知下一步；"
            "请保留好现有的证据材料（购买凭证、网页截图、合同、权利证书等）。",
            payload("form", form=FORM, submitted=True, ticket={"number": ticket.number, "eta_hours": hours}),
        )
        out.slots["ticket_number"] = ticket.number
        return out
