#!/usr/bin/env python3
"""Copy the texts in force in 2026 from ``../shared/corpus/laws-2026`` into ``knowledge/policies``.

Like ``import_laws.py``: each file keeps the original bytes verbatim after a
YAML front matter with its dates and provenance (source repository, path,
snapshot commit, sha256 from the shared MANIFEST.json).  Two codes are
shipped as **excerpts** (the IP articles of 民法典 and 刑法; the whole codes
would bring divorce, inheritance and theft into an IP index): every article
and heading kept is verbatim and in order, the front matter lists them, and
``body_sha256`` is the hash of the excerpt as shipped.

It also marks the texts these replace: ``superseded_by`` (the successor file)
or ``repealed_by`` / ``repealed_on``.  Whether a text is in force is worked
out from these dates on the law date (see ``index/lawdate.py``); nothing here
says "in force" in words.

Run when the shared corpus changes: ``python scripts/import_laws_2026.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus" / "laws-2026"
OUT = ROOT / "knowledge" / "policies"

ARTICLE = re.compile(r"^第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?")
HEADING = re.compile(r"^(#{2,6}) ")

#: file -> (output folder, doc_type, issuer, ip_types, aliases, excerpt articles or None)
PLAN: dict[str, tuple[str, str, str, list[str], list[str], list[str] | None]] = {
    "经济法/反不正当竞争法(2025-06-27).md": (
        "law", "law", "全国人民代表大会常务委员会", ["unfair_competition", "trade_secret"], ["反不正当竞争法"], None,
    ),
    "民法商法/商标法(2026-06-26).md": (
        "law", "law", "全国人民代表大会常务委员会", ["trademark"], ["商标法"], None,
    ),
    "行政法规/植物新品种保护条例(2025-04-29).md": (
        "administrative_regulation", "administrative_regulation", "国务院", ["plant_variety"],
        ["植物新品种保护条例"], None,
    ),
    "司法解释/最高人民法院 最高人民检察院关于办理侵犯知识产权刑事案件适用法律若干问题的解释(2025-04-23).md": (
        "judicial_interpretation", "judicial_interpretation", "最高人民法院、最高人民检察院",
        ["trademark", "copyright", "trade_secret", "patent"], ["知识产权刑事案件解释", "法释〔2025〕5号"], None,
    ),
    "司法解释/最高人民法院关于审理专利纠纷案件适用法律问题的若干规定(2020-12-29).md": (
        "judicial_interpretation", "judicial_interpretation", "最高人民法院", ["patent"], [], None,
    ),
    "司法解释/最高人民法院关于审理涉专利权评价报告案件适用法律问题的批复(2025-07-30).md": (
        "judicial_interpretation", "judicial_interpretation", "最高人民法院", ["patent"], [], None,
    ),
    "司法解释/最高人民法院关于审理侵犯商业秘密民事案件适用法律若干问题的规定(2020-09-10).md": (
        "judicial_interpretation", "judicial_interpretation", "最高人民法院", ["trade_secret"],
        ["商业秘密司法解释"], None,
    ),
    "经济法/种子法(2021-12-24).md": (
        "law", "law", "全国人民代表大会常务委员会", ["plant_variety"], ["种子法"], None,
    ),
    "民法商法/民法典(2020-05-28).md": (
        "law", "law", "全国人民代表大会", ["general"], ["民法典"],
        [
            "第一百二十三条", "第一百八十六条", "第一百八十八条", "第一百九十五条", "第五百零一条", "第八百四十三条", "第八百四十四条",
            "第八百四十七条", "第八百四十八条", "第八百五十九条", "第八百六十条", "第八百六十二条",
            "第一千一百六十五条", "第一千一百六十八条", "第一千一百六十九条", "第一千一百八十五条",
            "第一千一百九十四条", "第一千一百九十五条", "第一千一百九十六条", "第一千一百九十七条",
        ],
    ),
    "刑法/刑法(2023-12-29).md": (
        "law", "law", "全国人民代表大会", ["trademark", "copyright", "trade_secret", "patent"], ["刑法"],
        [
            "第二百一十三条", "第二百一十四条", "第二百一十五条", "第二百一十六条", "第二百一十七条",
            "第二百一十八条", "第二百一十九条", "第二百一十九条之一", "第二百二十条",
        ],
    ),
}  # fmt: skip

#: corpus file (relative to knowledge/policies) -> how it stops applying
REPLACED = {
    "law/反不正当竞争法(2019-04-23).md": {"superseded_by": "policies/law/反不正当竞争法(2025-06-27).md"},
    "law/商标法(2019-04-23).md": {"superseded_by": "policies/law/商标法(2026-06-26).md"},
    "administrative_regulation/植物新品种保护条例(2014-07-29).md": {
        "superseded_by": "policies/administrative_regulation/植物新品种保护条例(2025-04-29).md"
    },
    "judicial_interpretation/最高人民法院关于审理专利纠纷案件适用法律问题的若干规定(2015-01-29).md": {
        "superseded_by": (
            "policies/judicial_interpretation/最高人民法院关于审理专利纠纷案件适用法律问题的若干规定(2020-12-29).md"
        )
    },
}
REPEALED_BY_2025_5 = {
    "repealed_by": "《最高人民法院 最高人民检察院关于办理侵犯知识产权刑事案件适用法律若干问题的解释》（法释〔2025〕5号）",
    "repealed_on": "2025-04-26",
}


def excerpt(body: str, keep: list[str]) -> str:
    """The header, the articles in ``keep`` and the headings above them, verbatim and in order."""
    head, rest = body.split("<!-- INFO END -->", 1)
    lines = rest.split("\n")
    wanted = set(keep)
    out: list[str] = []
    headings: dict[int, str] = {}
    emitted: dict[int, str] = {}
    current: str | None = None
    for line in lines:
        match = HEADING.match(line)
        if match:
            level = len(match[1])
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = line
            current = None
            continue
        article = ARTICLE.match(line)
        if article:
            current = article[0] if article[0] in wanted else None
            if current:
                for level in sorted(headings):
                    if emitted.get(level) != headings[level]:
                        out += [headings[level], ""]
                        emitted = {k: v for k, v in emitted.items() if k < level}
                        emitted[level] = headings[level]
                wanted.discard(current)
        if current:
            out.append(line)
    if wanted:
        raise SystemExit(f"articles not found: {sorted(wanted)}")
    return head + "<!-- INFO END -->\n\n" + "\n".join(out).strip() + "\n"


def front_matter(item: dict[str, object], rel: str, body: str, excerpt_of: list[str] | None) -> dict[str, object]:
    _folder, doc_type, issuer, ip_types, aliases, _ = PLAN[rel]
    primary = item["primary"]
    assert isinstance(primary, dict)
    doc_number = next(
        (
            ln.strip()
            for ln in body.split("<!-- INFO END -->")[0].splitlines()
            if re.fullmatch(r"\S+〔\d{4}〕\d+号", ln.strip())
        ),
        "法释〔2025〕5号" if "刑事案件适用法律" in rel else None,
    )
    effective = str(item["effective"]).split(" ")[0]
    meta: dict[str, object] = {
        "title": item["title"],
        "doc_type": doc_type,
        "issuer": issuer,
        "doc_number": doc_number,
        "promulgated": item["promulgated"],
        "effective_date": effective,
        "version": item.get("version"),
        "region": "全国",
        "ip_types": ip_types,
        "aliases": aliases,
        "source": {
            "name": str(primary["source_repo"]),
            "repo": primary["source_repo"],
            "path": primary["source_path"],
            "commit": primary["snapshot_commit"],
            "sha256": item["sha256"],
        },
        "provenance": (
            "法律、法规和司法解释文本不适用著作权法保护（《中华人民共和国著作权法》第五条）。"
            "正文逐字取自上述来源（见 ../shared/corpus/laws-2026/MANIFEST.json 的核对记录），未作改动；"
            "本文件头部元数据由 weiyuan 项目添加。"
        ),
    }
    if excerpt_of:
        meta["excerpt"] = excerpt_of
        meta["provenance"] = (
            str(meta["provenance"]) + "本文件为节选：只收录与知识产权有关的条文（见 excerpt），逐字保留。"
        )
    if item.get("caveat"):
        meta["caveat"] = item["caveat"]
    return meta


def dump(meta: dict[str, object]) -> bytes:
    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000).encode("utf-8")


def main() -> int:
    manifest = {f["file"]: f for f in json.loads((SHARED / "MANIFEST.json").read_text("utf-8"))["files"]}
    for rel, plan in PLAN.items():
        item = manifest[rel]
        raw = (SHARED / rel).read_bytes()
        if hashlib.sha256(raw).hexdigest() != item["sha256"]:
            print(f"sha256 mismatch for {rel}", file=sys.stderr)
            return 1
        body = raw.decode("utf-8")
        keep = plan[5]
        if keep:
            body = excerpt(body, keep)
        meta = front_matter(item, rel, body, keep)
        if keep:
            meta["source"]["body_sha256"] = hashlib.sha256(body.encode("utf-8")).hexdigest()  # type: ignore[index]
        target = OUT / plan[0] / Path(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"---\n" + dump(meta) + b"---\n" + body.encode("utf-8"))
        print("wrote", target.relative_to(ROOT))
    # mark what the new texts replace or repeal
    for path in sorted(OUT.rglob("*.md")):
        rel = path.relative_to(OUT).as_posix()
        change: dict[str, str] | None = REPLACED.get(rel)
        if change is None and "侵犯知识产权刑事案件具体应用法律若干问题的解释" in rel:
            change = REPEALED_BY_2025_5
        if change is None:
            continue
        text = path.read_text("utf-8")
        _, front, body = text.split("---\n", 2)
        meta = yaml.safe_load(front)
        meta.pop("status", None)
        meta.update(change)
        path.write_bytes(b"---\n" + dump(meta) + b"---\n" + body.encode("utf-8"))
        print("marked", rel, change)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
