"""Small PNG charts for the Markdown report (matplotlib, headless).

English labels only: the report is a developer document and the machine may
lack a CJK font. Every function returns the written path, or ``None`` when
matplotlib is not installed (the report then says so instead of failing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def grouped_bars(
    path: Path, groups: Sequence[str], series: Mapping[str, Sequence[float]], title: str, ylabel: str
) -> Path | None:
    """One cluster of bars per group (e.g. per split), one bar per series (e.g. per metric)."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x, list(groups), fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return _save(plt, fig, path)


def stacked_shares(path: Path, groups: Sequence[str], parts: Mapping[str, Sequence[float]], title: str) -> Path | None:
    """Horizontal 100 % bars: how each group's questions ended (answered, handed over …)."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * len(groups)))
    left = np.zeros(len(groups))
    for name, values in parts.items():
        shares = np.asarray(values, dtype=float)
        ax.barh(list(groups), shares, left=left, label=name)
        left += shares
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return _save(plt, fig, path)


def roc_and_scores(
    path: Path, labels: Sequence[int], scores: Sequence[float], thresholds: Mapping[str, float], title: str
) -> Path | None:
    """ROC curve of the confidence, and the score distributions of right and wrong top hits."""
    plt = _pyplot()
    if plt is None:
        return None
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s)
    tpr = np.concatenate([[0.0], np.cumsum(y[order]) / max(y.sum(), 1)])
    fpr = np.concatenate([[0.0], np.cumsum(~y[order]) / max((~y).sum(), 1)])
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.4))
    left.plot(fpr, tpr)
    left.plot([0, 1], [0, 1], linestyle=":", color="grey")
    left.set_xlabel("false positive rate")
    left.set_ylabel("true positive rate")
    left.set_title("ROC")
    bins = np.linspace(0, 1, 21)
    right.hist(s[y], bins=bins, alpha=0.6, label="top hit relevant")
    right.hist(s[~y], bins=bins, alpha=0.6, label="not relevant / not IP")
    for name, value in thresholds.items():
        right.axvline(value, linestyle="--", color="black", linewidth=0.8)
        right.text(value, right.get_ylim()[1] * 0.9, f" {name}", fontsize=7)
    right.set_xlabel("confidence")
    right.set_title("scores")
    right.legend(fontsize=7)
    fig.suptitle(title)
    return _save(plt, fig, path)
