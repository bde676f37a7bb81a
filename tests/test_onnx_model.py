"""The ONNX backend refuses a model it cannot run faithfully, with a reason in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import WeiyuanError
from index.onnx_model import ensure_onnx_model, pooling_mode


def _model_dir(tmp_path: Path, modules: list[str], pooling: dict[str, bool]) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    entries = [
        {
            "idx": i,
            "name": str(i),
            "path": "1_Pooling" if m == "Pooling" else "",
            "type": f"sentence_transformers.models.{m}",
        }
        for i, m in enumerate(modules)
    ]
    (folder / "modules.json").write_text(json.dumps(entries), encoding="utf-8")
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    return folder


def test_mean_and_cls_pooling_are_read_from_the_model(tmp_path: Path) -> None:
    assert (
        pooling_mode(
            _model_dir(tmp_path / "a", ["Transformer", "Pooling", "Normalize"], {"pooling_mode_mean_tokens": True})
        )
        == "mean"
    )
    assert (
        pooling_mode(_model_dir(tmp_path / "b", ["Transformer", "Pooling"], {"pooling_mode_cls_token": True})) == "cls"
    )


@pytest.mark.parametrize(
    ("modules", "pooling"),
    [
        (["Transformer", "Pooling", "Dense", "Normalize"], {"pooling_mode_mean_tokens": True}),
        (["Transformer", "Pooling"], {"pooling_mode_max_tokens": True}),
    ],
)
def test_an_unsupported_model_is_refused_before_any_export(
    tmp_path: Path, modules: list[str], pooling: dict[str, bool]
) -> None:
    folder = _model_dir(tmp_path, modules, pooling)
    with pytest.raises(WeiyuanError, match=r"embedding\.backend = torch"):
        ensure_onnx_model(folder, quantize=True)
    assert not (folder / "onnx").exists() or not any((folder / "onnx").iterdir())
