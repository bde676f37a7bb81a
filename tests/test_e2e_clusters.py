"""Unanswered-question clusters with the real model: the action server embeds, the gateway clusters (issue 13).

The gateway loads no embedding model; ``POST /lookup/vectors`` on the action server (behind its
token) returns the vectors search uses, and the clusters of 13 hand-written questions in five
topics come out right with the real multilingual-e5 model at the default threshold.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import numpy as np
import pytest

from core.secrets import service_token
from core.settings import Settings
from desk.analytics.clusters import Question, cluster_questions
from desk.analytics.period import Period
from gateway.clusters import message_vectors, nearest_entry
from gateway.lookup_client import RemoteLookup

pytestmark = pytest.mark.e2e

TOPICS = {
    "trademark": [
        "商标被别人抢注了怎么办",
        "我的商标被人抢先注册了，该怎么处理",
        "别人抢注了我们公司的商标",
        "商标被抢注如何维权",
    ],
    "patent": ["专利侵权怎么赔偿", "别人侵犯我的专利，能要求赔多少钱", "专利被侵权后赔偿标准是什么"],
    "ecommerce": [
        "网店卖盗版书籍被投诉怎么办",
        "淘宝店铺因为著作权侵权被投诉了怎么处理",
        "电商平台说我的商品侵犯著作权下架了",
    ],
    "trade_secret": ["商业秘密被员工带走了怎么办", "员工离职带走了客户名单和技术资料"],
    "design": ["外观设计专利申请需要多久"],
}


def post(url: str, body: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_vectors_need_the_token_and_a_bounded_list(stack: Settings) -> None:
    base = f"http://{stack.server.host}:{stack.server.action_port}/lookup/vectors"
    assert post(base, {"texts": ["商标被抢注"]})[0] == 401
    token = service_token(stack, "actions")
    for bad in ({}, {"texts": []}, {"texts": ["  "]}, {"texts": [1]}, {"texts": ["问"] * 257}):
        status, body = post(f"{base}?token={token}", bad)
        assert status == 400 and "texts" in str(body["message"]), bad
    status, body = post(f"{base}?token={token}", {"texts": ["商标被抢注", "专利侵权"]})
    assert status == 200 and body["count"] == 2 and body["dim"] == 384


def test_the_real_model_groups_paraphrases_and_finds_the_nearest_entry(stack: Settings) -> None:
    lookup = RemoteLookup(stack)
    texts = [t for group in TOPICS.values() for t in group]
    repeated = message_vectors(lookup, texts * 20)  # 260 texts: two calls of at most 256, in order
    assert repeated.shape == (20 * len(texts), 384)
    vectors = repeated[: len(texts)]
    # the same texts in the second call (padded in other batches: equal up to float noise)
    assert np.min(np.sum(repeated[-len(texts) :] * vectors, axis=1)) > 0.995
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    topic_of = {t: topic for topic, group in TOPICS.items() for t in group}
    day = dt.date(2026, 4, 1)
    questions = [Question(i + 1, t, day, None, ("probable",)) for i, t in enumerate(texts)]
    clusters = cluster_questions(questions, vectors, Period(day, day))
    groups = [{topic_of[texts[i - 1]] for i in c.draft_ids} for c in clusters]
    assert [c.size for c in clusters] == [4, 3, 3, 2]  # 外观设计 asked once: no cluster
    assert groups[0] == {"trademark"} and sorted(map(sorted, groups[1:3])) == [["ecommerce"], ["patent"]]
    assert groups[3] == {"trade_secret"}
    nearest = nearest_entry(lookup, clusters[0].examples[0].text)
    assert nearest is not None and nearest.id.startswith("entry/") and "商标" in nearest.question
    assert 0 < nearest.score <= 1
