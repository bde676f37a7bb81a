"""The fitted domain model: training data, threshold rule, fitting and its place in the policy.

Vectors here are synthetic (no embedding model): the behaviour under test is
how the two regressions are fitted, stored and used, not what e5 knows.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from consult.domain import DomainModel, fit_domain_model, minimax_threshold, nlu_examples
from consult.policy import Nlu, Thresholds, decide

NLU_FILE = """version: "3.1"
nlu:
- intent: ask_ip_law
  examples: |
    - 在[深圳](region)申请[专利](ip_type)要多久
    - 商标被抢注了怎么办
- intent: out_of_scope
  examples: |
    - 离婚财产怎么分
- intent: greet
  examples: |
    - 你好
"""


def test_nlu_examples_label_by_intent_and_strip_entity_markup(tmp_path: Path) -> None:
    (tmp_path / "ip.yml").write_text(NLU_FILE, encoding="utf-8")
    assert nlu_examples(tmp_path) == [("在深圳申请专利要多久", 1), ("商标被抢注了怎么办", 1), ("离婚财产怎么分", 0)]


def test_threshold_balances_the_two_errors() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.35])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    threshold, rejected, accepted = minimax_threshold(scores, labels)
    assert 0.3 < threshold <= 0.35
    assert rejected == 0.0 and accepted == 0.0


def _embed(texts: Sequence[str]) -> np.ndarray:
    """IP texts point one way, the rest the other (a stand-in for the e5 vectors)."""
    out = []
    for text in texts:
        rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))  # hash() differs per process
        vector = rng.normal(0, 0.2, 8)
        vector[0] += 1.0 if ("专利" in text or "商标" in text) else -1.0
        out.append(vector / np.linalg.norm(vector))
    return np.array(out)


def test_fitted_model_separates_and_round_trips(tmp_path: Path) -> None:
    training = [(f"专利问题{i}", 1) for i in range(40)] + [(f"离婚问题{i}", 0) for i in range(40)]
    dev = [(f"商标纠纷{i}", 1, i % 2 == 0, 0.2 + i / 100, int(i >= 6)) for i in range(30)] + [
        (f"欠钱不还{i}", 0, False, 0.1, 0) for i in range(30)
    ]
    model, report = fit_domain_model(_embed, training, dev, "fp")
    assert report["stack_cv_auroc"] > 0.9
    # the probable tier starts where >= 80 % of the IP messages above it show a relevant source
    assert model.probable_threshold is not None and 0.2 <= model.probable_threshold <= 0.26
    assert model.probability(_embed(["商标被抢注"])[0], mentions_ip=True, confidence=0.5) >= model.threshold
    assert model.probability(_embed(["房租不退"])[0], mentions_ip=False, confidence=0.05) < model.threshold
    model.save(tmp_path / "domain.json")
    loaded = DomainModel.load(tmp_path / "domain.json")
    assert loaded is not None and loaded.threshold == model.threshold
    vector = _embed(["专利"])[0]
    assert loaded.probability(vector, mentions_ip=False, confidence=0.3) == pytest.approx(
        model.probability(vector, mentions_ip=False, confidence=0.3), abs=1e-4
    )


T = Thresholds(confident=0.8, probable=0.3, domain=0.6, routing=0.5)


def test_domain_probability_overrides_an_ip_word_in_a_non_ip_question() -> None:
    # "授权委托书" names an IP-ish word, but the model says this is a power of attorney for a house sale
    decision = decide(
        "卖房子的授权委托书怎么写", 0.4, T, nlu=Nlu("ask_ip_law", 0.95), mentions_ip=True, clarified=False,
        coverage=0.6, ip_probability=0.1,
    )  # fmt: skip
    assert decision.tier == "decline"


def test_domain_probability_lets_in_an_ip_question_diet_calls_out_of_scope() -> None:
    decision = decide(
        "鲁迅的文章现在能随便商用吗", 0.35, T, nlu=Nlu("out_of_scope", 0.99), mentions_ip=False, clarified=False,
        ip_probability=0.8,
    )  # fmt: skip
    assert decision.tier == "probable"


def test_without_a_domain_model_the_stated_rule_applies() -> None:
    decision = decide(
        "离婚财产怎么分割才合理", 0.35, T, nlu=Nlu("out_of_scope", 0.99), mentions_ip=False, clarified=False
    )
    assert decision.tier == "decline"


def test_probable_tier_stops_where_its_weakest_band_is_mostly_wrong() -> None:
    from consult.domain import probable_cutoff

    confidences = np.linspace(0.0, 1.0, 100)
    shown = (confidences >= 0.3).astype(int)  # nothing relevant is shown below 0.3
    cutoff = probable_cutoff(confidences, shown, min_precision=0.8)
    assert 0.2 <= cutoff <= 0.3
    assert probable_cutoff(confidences, np.ones(100, dtype=int), min_precision=0.8) == 0.0
