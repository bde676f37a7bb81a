"""Is this message an IP matter at all?  A fitted domain model.

DIET sees sparse word and character counts; it sends "我的店铺因为延迟发货被扣了
保证金" to the IP intents and "鲁迅的文章现在能随便商用吗" to out_of_scope.  The
embedding model the retriever already runs knows better.  Two small logistic
regressions decide:

1. **embedding score**: over the message's e5 query vector, fitted on text
   the project wrote itself and not on any evaluation split: the NLU training
   examples (IP and service intents against ``out_of_scope``), the knowledge
   base's entry questions and the lay questions of the statute articles;
2. **stack**: over that score's logit, whether the message names an IP term,
   and the calibrated retrieval confidence, fitted on the dev split with its
   threshold chosen there by a stated rule (cross-validated: the threshold
   that minimises the larger of the two error rates, IP questions declined
   and non-IP questions let in).

DIET's intent and confidence were tried as a fourth stack feature and added
nothing on dev (cross-validated AUROC 0.9903 with, 0.9897 without), so the
routing does not depend on them; DIET still decides chit-chat, hand-over
requests and the service intents.  ``weiyuan eval domain`` fits the model;
docs/dialogue.md has the figures.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

#: NLU intents whose examples are IP (or assistance-centre) questions: positives for the domain model.
DOMAIN_INTENTS = frozenset(
    {
        "ask_ip_law",
        "report_infringement",
        "ecommerce_complaint",
        "exhibition",
        "fast_handling",
        "mediation_arbitration",
        "overseas_dispute",
        "received_legal_notice",
        "request_infringement_judgment",
        "service_info",
        "apply_assistance",
    }
)
#: NLU intents whose examples are not IP matters: negatives.
OUTSIDE_INTENTS = frozenset({"out_of_scope"})

STACK_FEATURES = ("embedding_logit", "mentions_ip", "confidence")

# Rasa entity annotations: [深圳](region) or [深圳]{"entity": "region", ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass
class DomainModel:
    """P(the message is an IP matter), from its query vector and two retrieval signals."""

    model_fingerprint: str
    coef: list[float]
    intercept: float
    stack_coef: list[float]
    stack_intercept: float
    threshold: float
    #: the probable tier's cut-off among the messages the model lets in (None: the calibration's)
    probable_threshold: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def embedding_logit(self, vector: np.ndarray) -> float:
        z = float(np.dot(np.asarray(self.coef, dtype=np.float64), vector.astype(np.float64))) + self.intercept
        return max(-20.0, min(20.0, z))

    def probability(self, vector: np.ndarray, *, mentions_ip: bool, confidence: float) -> float:
        features = (self.embedding_logit(vector), float(mentions_ip), float(confidence))
        z = self.stack_intercept + sum(w * x for w, x in zip(self.stack_coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["coef"] = [round(c, 6) for c in self.coef]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DomainModel | None:
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def nlu_examples(nlu_dir: Path) -> list[tuple[str, int]]:
    """(text, 1 for an IP intent / 0 for out_of_scope) from the Rasa NLU training files."""
    out: list[tuple[str, int]] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []) or []:
            intent = block.get("intent")
            if intent not in DOMAIN_INTENTS and intent not in OUTSIDE_INTENTS:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _ANNOTATION.sub(lambda m: m.group(1), line[2:]).strip()
                    if text:
                        out.append((text, int(intent in DOMAIN_INTENTS)))
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def minimax_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """The cut-off minimising max(share of positives below it, share of negatives at or above it).

    Returns (threshold, positives rejected, negatives accepted).
    """
    pos, neg = scores[labels == 1], scores[labels == 0]
    best = (1.0, 1.0, 0.0)
    for t in np.unique(np.round(scores, 3)):
        rejected = float(np.mean(pos < t)) if len(pos) else 0.0
        accepted = float(np.mean(neg >= t)) if len(neg) else 0.0
        if max(rejected, accepted) < max(best[1], best[2]):
            best = (float(t), rejected, accepted)
    return best


def probable_cutoff(
    confidences: np.ndarray,
    shown: np.ndarray,
    min_precision: float,
    band_share: float = 0.1,
    min_band_precision: float = 0.5,
) -> float:
    """Lowest confidence at which the probable tier is worth showing.

    Two conditions on the messages at or above it: at least ``min_precision``
    of them show a relevant source, and so do at least ``min_band_precision``
    of the lowest ``band_share`` of them (below that, a list of sources is
    more often wrong than right and a person helps more).
    """
    order = np.argsort(confidences, kind="stable")
    conf, hit = confidences[order], shown[order].astype(float)
    band = max(1, round(band_share * len(conf)))
    for start in range(len(conf)):
        if start > 0 and conf[start] == conf[start - 1]:
            continue
        rest = hit[start:]
        if rest.mean() >= min_precision and hit[start : start + band].mean() >= min_band_precision:
            return float(conf[start])
    return 1.0


def fit_domain_model(
    embed: Callable[[Sequence[str]], np.ndarray],
    training: Iterable[tuple[str, int]],
    dev: Sequence[tuple[str, int, bool, float, int]],
    fingerprint: str,
    *,
    seed: int = 20261129,
) -> tuple[DomainModel, dict[str, Any]]:
    """Fit the embedding score on ``training`` and the stack on ``dev``.

    ``dev`` rows are (message, 1 if in domain, mentions an IP term, retrieval confidence,
    1 if a relevant source is among those the probable tier shows).

    The probable tier is then re-chosen among the dev messages the model lets in
    (out-of-fold): see :func:`probable_cutoff` (the calibration's rule, over the
    messages the tier can actually reach, plus a floor on its weakest band).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from index.evaluate import PROBABLE_PRECISION

    texts, labels = zip(*training, strict=True)
    x_train = embed(list(texts))
    y_train = np.array(labels)
    base = LogisticRegression(C=3.0, class_weight="balanced", max_iter=5000).fit(x_train, y_train)

    messages = [row[0] for row in dev]
    y_dev = np.array([row[1] for row in dev])
    logits = _logit(base.predict_proba(embed(messages))[:, 1])
    stack_x = np.column_stack([logits, [float(r[2]) for r in dev], [float(r[3]) for r in dev]])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    stack = LogisticRegression(C=1.0, max_iter=2000)
    cv = cross_val_predict(stack, stack_x, y_dev, cv=folds, method="predict_proba")[:, 1]
    threshold, rejected, accepted = minimax_threshold(cv, y_dev)
    stack.fit(stack_x, y_dev)
    let_in = cv >= threshold
    confidences = np.array([float(r[3]) for r in dev])
    shown = np.array([int(r[4]) for r in dev])
    probable = probable_cutoff(confidences[let_in], shown[let_in], min_precision=PROBABLE_PRECISION)
    above = let_in & (confidences >= probable)
    report = {
        "training_examples": len(texts),
        "training_positives": int(y_train.sum()),
        "dev_questions": len(dev),
        "dev_in_domain": int(y_dev.sum()),
        "embedding_only_auroc": round(float(roc_auc_score(y_dev, logits)), 4),
        "stack_cv_auroc": round(float(roc_auc_score(y_dev, cv)), 4),
        "threshold_rule": "minimise max(IP declined, non-IP let in), 5-fold CV on dev",
        "cv_ip_declined": round(rejected, 4),
        "cv_non_ip_let_in": round(accepted, 4),
        "probable_threshold": round(probable, 3),
        "probable_rule": (
            f">={PROBABLE_PRECISION:.0%} of dev messages let in above it show a relevant source, "
            "and >=50% of the lowest tenth of them"
        ),
        "probable_precision_dev": round(float(shown[above].mean()), 4) if above.any() else None,
    }
    model = DomainModel(
        model_fingerprint=fingerprint,
        coef=[float(c) for c in base.coef_[0]],
        intercept=float(base.intercept_[0]),
        stack_coef=[round(float(c), 6) for c in stack.coef_[0]],
        stack_intercept=round(float(stack.intercept_[0]), 6),
        threshold=round(threshold, 3),
        probable_threshold=round(probable, 3),
        metrics=report,
    )
    return model, report


def knowledge_examples(entry_questions: Iterable[str], article_questions: Iterable[str]) -> list[tuple[str, int]]:
    """Positives from the knowledge base: entry questions and variants, lay questions of articles."""
    return [(q, 1) for q in (*entry_questions, *article_questions) if q.strip()]
