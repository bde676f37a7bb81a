"""What people type is normalised before matching: width, script, slang."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import KnowledgeError
from index.textnorm import load_synonyms, normalize, prepare_query
from index.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parent.parent


def test_full_width_and_traditional_become_simplified_half_width() -> None:
    assert normalize("我們的專利被人仿冒了，怎麼辦？ＡＢＣ　１２３") == "我们的专利被人仿冒了,怎么办?abc 123"


def test_shipped_synonyms_expand_abbreviations() -> None:
    synonyms = load_synonyms(ROOT / "knowledge" / "synonyms.yaml")
    assert "计算机软件著作权" in prepare_query("软著怎么登记", synonyms).expanded
    assert "商业秘密" in prepare_query("商秘被员工带走了", synonyms).expanded
    assert "地理标志" in prepare_query("地標產品能隨便用嗎", synonyms).expanded  # traditional first
    plain = prepare_query("专利怎么申请", synonyms)
    assert plain.expanded == plain.normalized


def test_bad_synonyms_file_names_line(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("synonyms:\n  软著: [计算机软件著作权\n  商秘: [商业秘密]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_synonyms(path)
    assert caught.value.problems[0].path == "synonyms.yaml"


def test_lexicon_keeps_ip_terms_whole() -> None:
    tokenizer = Tokenizer(ROOT / "knowledge" / "lexicon")
    tokens = tokenizer.tokens(normalize("收到不侵权声明后电商平台要恢复链接吗"))
    assert "不侵权声明" in tokens and "电商平台" in tokens
    assert "的" not in tokenizer.tokens("我的商标")
