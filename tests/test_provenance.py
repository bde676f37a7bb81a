"""Every shipped corpus file says where it came from; statute texts are unaltered."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from index.loader import load_corpus
from index.policy_text import split_front_matter

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SHARED_MANIFEST = ROOT.parent / "shared" / "corpus" / "laws" / "MANIFEST.json"

# Only these real public hotlines may appear: 12330 (IP protection assistance), 12348 (legal services).
PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4}|123\d{2})(?!\d)")
ALLOWED_NUMBERS = {"12330", "12348"}
#: Public repositories the statute texts were taken from (../shared/corpus/*/MANIFEST.json records each file).
STATUTE_SOURCES = {"LawRefBook/Laws", "ImCa0/just-laws", "Ansvar-Systems/chinese-law-mcp", "13098806890/laws-data"}


def test_statute_bodies_are_byte_identical_to_their_source() -> None:
    checked = 0
    for path in sorted((KNOWLEDGE / "policies").rglob("*.md")):
        text = path.read_text("utf-8")
        front, body, _ = split_front_matter(text)
        meta = yaml.safe_load(front or "")
        source = meta["source"]
        if meta["doc_type"] == "guide":
            continue
        assert source["repo"] in STATUTE_SOURCES and len(source["commit"]) == 40
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if meta.get("excerpt"):
            # an excerpt: the articles kept are verbatim; the shipped body hashes to body_sha256
            assert digest == source["body_sha256"], path
            assert all(f"\n{article}" in body for article in meta["excerpt"]), path
        else:
            assert digest == source["sha256"], path
        assert "著作权法》第五条" in meta["provenance"]
        checked += 1
    assert checked >= 60


def test_required_statutes_are_shipped() -> None:
    titles = {p.meta.title for p in load_corpus(KNOWLEDGE).policies}
    required = {
        "中华人民共和国专利法",
        "中华人民共和国专利法实施细则",
        "中华人民共和国商标法",
        "中华人民共和国商标法实施条例",
        "中华人民共和国著作权法",
        "中华人民共和国著作权法实施条例",
        "计算机软件保护条例",
        "信息网络传播权保护条例",
        "中华人民共和国反不正当竞争法",
        "中华人民共和国电子商务法",
        "中华人民共和国知识产权海关保护条例",
        "国务院关于涉外知识产权纠纷处理的规定",
        "知识产权维权援助服务指南",
    }
    assert required <= titles
    assert sum(1 for p in load_corpus(KNOWLEDGE).policies if p.meta.doc_type == "judicial_interpretation") >= 30


def test_every_project_written_file_states_its_provenance() -> None:
    for path in sorted(KNOWLEDGE.glob("entries/*.yaml")) + sorted(KNOWLEDGE.glob("experts/*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        assert len(str(data.get("provenance", ""))) >= 10, path
    guide = (KNOWLEDGE / "policies" / "guide" / "知识产权维权援助服务指南.md").read_text("utf-8")
    assert "weiyuan 项目" in guide.split("---", 2)[1]


def test_no_invented_phone_numbers_in_written_content() -> None:
    for path in sorted(KNOWLEDGE.glob("entries/*.yaml")) + list((KNOWLEDGE / "policies" / "guide").glob("*.md")):
        for number in PHONE.findall(path.read_text("utf-8")):
            assert number in ALLOWED_NUMBERS, f"{path.name}: {number}"


def test_demo_experts_are_labelled_demo() -> None:
    for path in sorted(KNOWLEDGE.glob("experts/*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        assert data["demo"] is True and "演示" in data["provenance"], path
        assert all(e.get("demo") is True and "演示" in e["name"] for e in data["experts"]), path


def test_no_cases_are_shipped_without_a_source() -> None:
    for case in load_corpus(KNOWLEDGE).cases:
        assert case.source.url or case.source.path
