"""Unanswered-question mining (issue 13): clustering a fixture set with known groups, picking the questions
from the analytics records and the 👎, and one click from a cluster to a draft in the review list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from core.errors import NotFound, WeiyuanError
from core.settings import Settings
from desk.analytics.clusters import (
    ANSWER_PLACEHOLDER,
    Question,
    build_cluster_report,
    cluster_questions,
    draft_from_questions,
    unanswered_questions,
)
from desk.analytics.period import Period
from desk.analytics.record import classify, record_turn
from desk.analytics.retention import purge_analytics_text
from desk.service import Actor, Desk
from index.embedder import HashingEmbedder
from store.db import Database
from store.models import Feedback

UTC = dt.UTC
RANGE = Period(dt.date(2026, 4, 1), dt.date(2026, 4, 10))  # first half 1–5 April, second half 6–10 April
ADMIN = Actor("admin1", "管理员", "admin")

#: Three topics (a unit direction each) and their paraphrases: (text, day of April, distance from the topic).
TOPICS: dict[str, list[tuple[str, int, float]]] = {
    "trademark": [
        ("商标被别人抢注了怎么办", 6, 0.00),
        ("我的商标被人抢先注册了", 7, 0.05),
        ("别人抢注了我们的商标", 8, 0.06),
        ("商标被抢注如何维权", 2, 0.08),
        ("公司商标让人抢注了怎么处理", 9, 0.09),
    ],
    "patent": [
        ("专利侵权怎么赔偿", 1, 0.00),
        ("别人侵犯我的专利能赔多少", 2, 0.05),
        ("专利被侵权的赔偿标准", 3, 0.07),
        ("专利侵权赔偿怎么算", 8, 0.08),
    ],
    "ecommerce": [
        ("网店被投诉侵犯著作权怎么办", 4, 0.00),
        ("淘宝店铺因著作权被投诉下架", 5, 0.06),
        ("电商平台说我的商品侵权下架了", 9, 0.07),
    ],
}


def topic_vectors(dim: int = 32) -> tuple[list[Question], np.ndarray, dict[str, set[int]]]:
    """Hand-made vectors: each paraphrase is its topic's axis tilted by a fixed amount, plus one stray question."""
    rng = np.random.default_rng(7)
    questions, rows, groups = [], [], {}
    for axis, (topic, items) in enumerate(TOPICS.items()):
        groups[topic] = set()
        for tilt, (text, day, away) in enumerate(items):
            vector = np.zeros(dim)
            vector[axis] = 1.0
            vector[10 + (axis * 5 + tilt) % (dim - 10)] = away  # its own small direction
            qid = 100 * (axis + 1) + tilt
            questions.append(Question(qid, text, dt.date(2026, 4, day), topic, ("probable",)))
            rows.append(vector + rng.normal(0, 0.002, dim))
            groups[topic].add(qid)
    stray = np.zeros(dim)
    stray[5] = 1.0
    questions.append(Question(999, "植物新品种权怎么申请", dt.date(2026, 4, 3), "plant_variety", ("handoff",)))
    rows.append(stray)
    return questions, np.array(rows), groups


def test_the_fixture_topics_come_out_as_the_clusters_biggest_first() -> None:
    questions, vectors, groups = topic_vectors()
    clusters = cluster_questions(questions, vectors, RANGE, threshold=0.1)
    assert [c.size for c in clusters] == [5, 4, 3]  # the stray question is alone: not a pattern
    by_id = {q.id: q for q in questions}
    members = [{by_id[i].ip_type for i in c.draft_ids} for c in clusters]
    assert members == [{"trademark"}, {"patent"}, {"ecommerce"}]
    assert [set(c.draft_ids) for c in clusters] == [groups["trademark"], groups["patent"], groups["ecommerce"]]
    # the central example is the question nearest the others: the untilted one
    assert [c.examples[0].text for c in clusters] == [
        "商标被别人抢注了怎么办",
        "专利侵权怎么赔偿",
        "网店被投诉侵犯著作权怎么办",
    ]
    assert [c.id for c in clusters] == [100, 200, 300]
    assert all(len(c.examples) == 3 for c in clusters)
    trademark, patent, ecommerce = clusters
    assert (trademark.first_half, trademark.second_half, trademark.trend) == (1, 4, "up")
    assert (patent.first_half, patent.second_half, patent.trend) == (3, 1, "down")
    assert (ecommerce.first_half, ecommerce.second_half, ecommerce.trend) == (2, 1, "down")
    assert trademark.ip_type == "trademark" and trademark.ip_label == "商标"
    assert trademark.reasons == {"probable": 5}


def test_clustering_is_deterministic_and_independent_of_the_input_order() -> None:
    questions, vectors, _ = topic_vectors()
    first = cluster_questions(questions, vectors, RANGE, threshold=0.1)
    order = np.random.default_rng(3).permutation(len(questions))
    shuffled = cluster_questions([questions[i] for i in order], vectors[order], RANGE, threshold=0.1)
    assert [c.model_dump() for c in shuffled] == [c.model_dump() for c in first]


def test_a_tight_threshold_splits_and_a_loose_one_merges() -> None:
    questions, vectors, _ = topic_vectors()
    assert cluster_questions(questions, vectors, RANGE, threshold=0.001) == []  # every question alone
    merged = cluster_questions(questions, vectors, RANGE, threshold=1.5)
    assert [c.size for c in merged] == [len(questions)]
    assert cluster_questions([], np.zeros((0, 4)), RANGE) == []
    with pytest.raises(ValueError):
        cluster_questions(questions, vectors[:-1], RANGE)


def test_duplicates_count_in_the_size_but_show_once() -> None:
    embedder = HashingEmbedder()
    texts = ["商标被别人抢注了怎么办"] * 3 + [
        "商标被别人抢注了怎么办呢",
        "专利侵权赔偿怎么计算",
        "专利侵权赔偿怎么计算",
    ]
    questions = [Question(i + 1, t, dt.date(2026, 4, 1 + i), None, ("handoff",)) for i, t in enumerate(texts)]
    clusters = cluster_questions(questions, embedder.embed_queries(texts), RANGE)
    assert [c.size for c in clusters] == [4, 2]
    assert [e.text for e in clusters[0].examples] == ["商标被别人抢注了怎么办", "商标被别人抢注了怎么办呢"]
    assert [e.text for e in clusters[1].examples] == ["专利侵权赔偿怎么计算"]
    assert clusters[0].ip_type is None and clusters[0].ip_label == "未识别"


# ---------------------------------------------------------------- from the analytics records


def answer(tier: str, answer_id: str, ip: str = "trademark") -> list[dict[str, Any]]:
    meta = {"type": "answer", "tier": tier, "confidence": 0.5, "ip_type": ip, "answer_id": answer_id}
    return [{"role": "bot", "text": "回答", "meta": meta}]


#: Character-bigram hashing is no semantic model: the masked phone number moves a paraphrase to distance 0.25.
HASHING_THRESHOLD = 0.3
HANDOFF = [{"role": "bot", "text": "转人工", "meta": {"type": "handoff", "ticket": "T-1"}}]
CLARIFY = [{"role": "bot", "text": "请问", "meta": {"type": "clarify", "asks": "ip_type"}}]
DECLINED = [{"role": "bot", "text": "不在服务范围内", "meta": {"type": "out_of_scope"}}]

#: (conversation, day of April, hour UTC, text, replies): which rows are "unanswered" is known.
ROWS: list[tuple[str, int, int, str, list[dict[str, Any]]]] = [
    ("w-1", 2, 2, "商标被别人抢注了怎么办", answer("probable", "p1" * 16)),  # probable: in
    ("w-2", 3, 2, "商标被别人抢注了怎么办呢", HANDOFF),  # handed over: in
    ("w-3", 7, 2, "商标被别人抢注了怎么办", answer("confident", "d1" * 16)),  # confident but 👎: in
    ("w-4", 8, 2, "商标被别人抢注了怎么办", answer("confident", "c1" * 16)),  # confident, no 👎: out
    ("w-5", 8, 3, "专利侵权赔偿怎么计算", CLARIFY),  # clarification: out
    ("w-6", 9, 2, "专利侵权赔偿怎么计算", answer("probable", "p2" * 16, "patent")),  # in
    ("w-7", 9, 3, "专利侵权赔偿怎么计算呢 联系 13812345678", answer("probable", "p3" * 16, "patent")),  # in, redacted
    ("w-8", 20, 2, "商标被别人抢注了怎么办", answer("probable", "p4" * 16)),  # after the range: out
    ("w-9", 6, 2, "奥运五环能印在产品包装上吗", DECLINED),  # declined as not IP: in only when asked for
]


@pytest.fixture
def db(settings: Settings) -> Database:
    database = Database(settings.database_url)
    database.upgrade()
    with database.session() as session:
        for conversation, day, hour, text, replies in ROWS:
            when = dt.datetime(2026, 4, day, hour, tzinfo=UTC)
            record_turn(session, conversation_id=conversation, text=text, facts=classify(replies), at=when)
            session.flush()
        session.add_all(
            [
                Feedback(message_ref="d1" * 16, rating=-1, created_at=dt.datetime(2026, 4, 7, 3, tzinfo=UTC)),
                Feedback(message_ref="c1" * 16, rating=1, created_at=dt.datetime(2026, 4, 8, 3, tzinfo=UTC)),
                Feedback(message_ref="p2" * 16, rating=1, created_at=dt.datetime(2026, 4, 9, 3, tzinfo=UTC)),
            ]
        )
    return database


def test_only_probable_handed_over_and_disliked_questions_with_text(db: Database) -> None:
    with db.session() as session:
        questions, total = unanswered_questions(session, RANGE)
    assert total == 5
    assert [(q.text, q.reasons) for q in questions] == [  # newest first
        ("专利侵权赔偿怎么计算呢 联系 [手机号]", ("probable",)),
        ("专利侵权赔偿怎么计算", ("probable",)),
        ("商标被别人抢注了怎么办", ("disliked",)),
        ("商标被别人抢注了怎么办呢", ("handoff",)),
        ("商标被别人抢注了怎么办", ("probable",)),
    ]
    assert all("13812345678" not in q.text for q in questions)
    with db.session() as session:
        newest, total = unanswered_questions(session, RANGE, limit=2)
    assert len(newest) == 2 and total == 5


def test_questions_declined_as_not_ip_join_only_when_the_admin_asks(db: Database) -> None:
    with db.session() as session:
        questions, total = unanswered_questions(session, RANGE, declined=True)
    assert total == 6
    assert ("奥运五环能印在产品包装上吗", ("declined",)) in [(q.text, q.reasons) for q in questions]


def test_rows_whose_text_was_cleared_after_retention_are_skipped(db: Database) -> None:
    # everything before 5 April is past a 180-day retention on 2 October
    purge_analytics_text(db, 180, now=dt.datetime(2026, 10, 2, tzinfo=UTC))
    with db.session() as session:
        questions, total = unanswered_questions(session, RANGE)
    assert total == 3 and {q.day.day for q in questions} == {7, 9}


def test_the_report_of_a_range_with_an_embedder_and_the_nearest_entry(db: Database) -> None:
    embedder = HashingEmbedder()
    asked: list[str] = []

    def nearest(text: str) -> Any:
        asked.append(text)
        return None

    report = build_cluster_report(
        db,
        RANGE,
        embedder.embed_queries,
        nearest,
        index_version="v1",
        now=dt.datetime(2026, 4, 11, tzinfo=UTC),
        threshold=HASHING_THRESHOLD,
    )
    assert (report.questions, report.considered, report.clustered) == (5, 5, 5)
    assert [(c.size, c.first_half, c.second_half, c.trend) for c in report.clusters] == [
        (3, 2, 1, "down"),
        (2, 0, 2, "up"),
    ]
    trademark, patent = report.clusters
    assert trademark.reasons == {"probable": 1, "handoff": 1, "disliked": 1}
    assert trademark.examples[0].text == "商标被别人抢注了怎么办" and trademark.ip_type == "trademark"
    assert patent.ip_type == "patent"
    assert asked == [trademark.examples[0].text, patent.examples[0].text]  # one lookup per cluster
    assert report.index_version == "v1" and report.note is None


def test_a_cluster_becomes_a_draft_in_the_review_list_that_needs_an_answer(db: Database, settings: Settings) -> None:
    desk = Desk(settings, db)
    report = build_cluster_report(db, RANGE, HashingEmbedder().embed_queries, threshold=HASHING_THRESHOLD)
    trademark = report.clusters[0]
    with db.session() as session:
        data = draft_from_questions(session, trademark.draft_ids)
    assert data == {
        "question": "商标被别人抢注了怎么办",
        "variants": ["商标被别人抢注了怎么办呢"],
        "answer": ANSWER_PLACEHOLDER,
        "ip_type": "trademark",
        "references": [],
    }
    draft_id = desk.create_draft(None, ADMIN, data)
    pending = desk.drafts()
    assert [(d["id"], d["question"], d["variants"], d["created_by"]) for d in pending] == [
        (draft_id, "商标被别人抢注了怎么办", ["商标被别人抢注了怎么办呢"], "admin1")
    ]
    # the next look at the clusters points at the draft instead of offering a second one
    again = build_cluster_report(db, RANGE, HashingEmbedder().embed_queries, threshold=HASHING_THRESHOLD)
    assert again.clusters[0].draft_id == draft_id and again.clusters[1].draft_id is None
    # the placeholder cannot be published; nothing was written
    with pytest.raises(WeiyuanError, match="请先撰写回答"):
        desk.publish_draft(draft_id, ADMIN, {})
    assert desk.drafts()[0]["status"] == "draft"
    assert not (settings.knowledge_dir / settings.desk.drafts_file).exists()


def test_a_draft_needs_records_that_still_have_text(db: Database) -> None:
    with db.session() as session, pytest.raises(NotFound, match="超过保存期限"):
        draft_from_questions(session, [987654])
