from __future__ import annotations

import numpy as np

from index.bm25 import BM25


def test_bm25_ranks_documents_with_rarer_terms_higher() -> None:
    docs = [["专利", "侵权", "赔偿"], ["商标", "注册"], ["专利", "申请"], ["商标", "侵权"]]
    bm25 = BM25.build(docs)
    scores, ids = bm25.top(["专利", "赔偿"], k=3)
    assert ids.tolist()[0] == 0
    assert set(ids.tolist()) == {0, 2}
    assert np.all(np.diff(scores) <= 0)


def test_bm25_filter_and_unknown_terms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bm25 = BM25.build([["专利"], ["专利", "商标"], ["商标"]])
    allowed = np.array([False, True, True])
    _, ids = bm25.top(["专利"], k=5, allowed=allowed)
    assert ids.tolist() == [1]
    assert bm25.top(["不存在"], k=5)[1].size == 0
    assert bm25.coverage(["专利", "不存在"]) == 0.5
    bm25.save(tmp_path)
    again = BM25.load(tmp_path)
    assert np.allclose(again.scores(["商标"]), bm25.scores(["商标"]))
