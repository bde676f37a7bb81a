"""The sentence-transformers encoder as an ONNX graph, exported once from the local weights.

Why: onnxruntime runs the int8 e5-small encoder on a short query in about 5 ms of CPU
against about 12 ms for torch's dynamic int8 (measured on this project's 2-core machine,
docs/benchmarks.md), and it stays closer to the fp32 vectors (cosine 0.99 against 0.98).
Queries are the largest share of the action server's CPU per turn.

The graph is derived data, like the model folder it is exported from: written next to the
weights on first use (about 30 s), never committed, never downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

from core.errors import WeiyuanError

#: Sub-folder of a model folder that holds the exported graphs.
ONNX_DIR = "onnx"
#: Bumped when the export changes, so an old graph is not reused.
EXPORT_VERSION = 1


def onnx_model_path(model_dir: Path, quantize: bool) -> Path:
    """Where the graph for ``model_dir`` lives (int8 or fp32).

    The name carries a stamp of the weights it was exported from, so a model folder rebuilt
    with other weights never serves a graph of the old ones.
    """
    name = "model_qint8" if quantize else "model"
    return model_dir / ONNX_DIR / f"{name}.v{EXPORT_VERSION}.{_weights_stamp(model_dir)}.onnx"


def _weights_stamp(model_dir: Path) -> str:
    parts = []
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.exists():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.blake2b("|".join(parts).encode(), digest_size=4).hexdigest()


def pooling_mode(model_dir: Path) -> str:
    """``mean`` or ``cls``: how token vectors become one sentence vector (from the model's own config).

    Only the plain layout Transformer → Pooling (→ Normalize) is supported; anything else is
    an error that names the torch backend as the way out.
    """
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((model_dir / pooling_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise WeiyuanError(
            f"向量模型 {model_dir} 不是可导出的 sentence-transformers 目录（{exc}），请设置 embedding.backend = torch"
        ) from exc
    if types[:2] != ["Transformer", "Pooling"] or not set(types[2:]) <= {"Normalize"}:
        raise WeiyuanError(f"向量模型 {model_dir} 的结构 {types} 不支持 ONNX 后端，请设置 embedding.backend = torch")
    if config.get("pooling_mode_mean_tokens"):
        return "mean"
    if config.get("pooling_mode_cls_token"):
        return "cls"
    raise WeiyuanError(f"向量模型 {model_dir} 的池化方式不支持 ONNX 后端，请设置 embedding.backend = torch")


def ensure_onnx_model(model_dir: Path, quantize: bool) -> Path:
    """The exported graph for ``model_dir``, exporting (and quantising) it on first use.

    Written under a temporary name and renamed, so a process killed mid-export leaves no
    half graph and two processes exporting at once both end with a complete one.
    """
    target = onnx_model_path(model_dir, quantize)
    if target.exists():
        return target
    pooling_mode(model_dir)  # fail before a 30-second export of a model we cannot serve
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}")
    fp32 = tmp.with_suffix(".fp32.onnx")
    try:
        _export(model_dir, fp32)
        if quantize:
            import logging

            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # its advice to pre-process is for static quantisation
            try:
                quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
        else:
            fp32.replace(tmp)
        os.replace(tmp, target)
        prefix = target.name.split(".", 1)[0] + "."
        for stale in target.parent.glob(prefix + "*.onnx"):  # graphs of earlier weights or exports
            if stale != target and not stale.name.startswith("."):
                stale.unlink(missing_ok=True)
    finally:
        for leftover in (fp32, tmp):
            leftover.unlink(missing_ok=True)
    return target


def _export(model_dir: Path, path: Path) -> None:
    """Trace the transformer (token ids, attention mask → token vectors) into ``path``."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # type: ignore[no-any-return]

    ids = torch.tensor([[0, 6, 7, 2]], dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns that padding checks become constants: they are (the graph always gets a
    # full attention mask); tests compare padded batches with sentence-transformers.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenVectors().eval(),
            (ids, torch.ones_like(ids)),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["token_vectors"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_vectors": axes},
            opset_version=17,
            dynamo=False,
        )
