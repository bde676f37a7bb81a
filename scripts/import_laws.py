#!/usr/bin/env python3
"""Copy the public statutes from ``../shared/corpus/laws`` into ``knowledge/policies``.

Each copied file keeps the original bytes verbatim after a YAML front matter
that records what the document is (issuer, type, region, dates, IP types) and
where it came from (repository, path, snapshot commit, sha256 of the original
bytes).  ``tests/test_provenance.py`` checks that the body still hashes to the
recorded sha256, so nobody can edit a statute text by accident.

Run once when the shared corpus changes: ``python scripts/import_laws.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus" / "laws"
OUT = ROOT / "knowledge" / "policies"

#: Left out on purpose (see knowledge/README.md): superseded versions, an
#: amendment decision without articles of its own, and a duplicate copy.
SKIP = {
    "行政法规/专利法实施细则(2010-01-09).md": "superseded by the 2023 text",
    "司法解释/最高人民法院关于知识产权法庭若干问题的规定(2018-12-28).md": "superseded by 2023",
    "司法解释/最高人民法院关于修改《最高人民法院关于审理侵犯专利权纠纷案件应用法律若干问题的解释（二）》"
    "等十八件知识产权类司法解释的决定.md": "amendment decision, no articles of its own",
    "司法解释/最高人民法院 最高人民检察院关于办理侵犯知识产权刑事案件具体应用法律若干问题的解释（三）"
    "(2020-09-12).md": "duplicate of the undated copy",
}

ALIASES = {
    "中华人民共和国专利法": ["专利法"],
    "中华人民共和国商标法": ["商标法"],
    "中华人民共和国著作权法": ["著作权法", "版权法"],
    "中华人民共和国反不正当竞争法": ["反不正当竞争法", "反不正当竞争法（2019）"],
    "中华人民共和国电子商务法": ["电子商务法", "电商法"],
    "中华人民共和国专利法实施细则": ["专利法实施细则"],
    "中华人民共和国商标法实施条例": ["商标法实施条例"],
    "中华人民共和国著作权法实施条例": ["著作权法实施条例"],
    "中华人民共和国植物新品种保护条例": ["植物新品种保护条例"],
    "中华人民共和国知识产权海关保护条例": ["知识产权海关保护条例"],
    "国务院关于涉外知识产权纠纷处理的规定": ["涉外知识产权纠纷处理的规定"],
}

DOC_TYPE_BY_DIR = {
    "民法商法": ("law", "全国人民代表大会常务委员会"),
    "经济法": ("law", "全国人民代表大会常务委员会"),
    "行政法规": ("administrative_regulation", "国务院"),
    "司法解释": ("judicial_interpretation", "最高人民法院"),
    "部门规章": ("departmental_rule", "国家知识产权局"),
    "DLC": ("local_regulation", ""),
}

CITY_PROVINCE = {"淄博": "山东", "青岛": "山东", "洛阳": "河南", "郑州": "河南", "宁波": "浙江"}

IP_KEYWORDS: list[tuple[str, list[str]]] = [
    ("植物新品种", ["plant_variety"]),
    ("集成电路布图", ["ic_layout"]),
    ("地理标志", ["geographical_indication"]),
    ("反不正当竞争", ["unfair_competition", "trade_secret"]),
    ("电子商务", ["ecommerce"]),
    ("信息网络传播权", ["copyright"]),
    ("计算机软件", ["copyright"]),
    ("著作权", ["copyright"]),
    ("国际著作权", ["copyright"]),
    ("驰名商标", ["trademark"]),
    ("商标", ["trademark"]),
    ("药品相关的专利", ["patent"]),
    ("专利", ["patent"]),
    ("刑事", ["trademark", "copyright", "trade_secret", "patent"]),
    ("涉网络知识产权", ["ecommerce", "general"]),
]

DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def ip_types_for(title: str) -> list[str]:
    for keyword, types in IP_KEYWORDS:
        if keyword in title:
            return types
    return ["general"]


def header_dates(text: str) -> tuple[str | None, str | None]:
    """(first date in the history header, date of the '施行' line) as ISO strings."""
    header = text.split("<!-- INFO END -->", 1)[0]
    first = None
    effective = None
    for line in header.splitlines():
        match = DATE.search(line)
        if not match:
            continue
        iso = f"{int(match[1]):04d}-{int(match[2]):02d}-{int(match[3]):02d}"
        first = first or iso
        if "施行" in line:
            effective = iso
    return first, effective


def front_matter(rel: str, body: str, manifest: dict[str, dict[str, str]]) -> tuple[str, str]:
    title = body.splitlines()[0].lstrip("# ").strip()
    top = rel.split("/", 1)[0]
    doc_type, issuer = DOC_TYPE_BY_DIR[top]
    region = "全国"
    if top == "DLC":
        province = rel.split("/")[1].replace("地方法规", "")
        city = next((c for c in CITY_PROVINCE if title.startswith(c)), None)
        region = province
        place = (
            f"{city}市"
            if city
            else (f"{province}市" if province in ("北京", "上海", "重庆", "天津") else f"{province}省")
        )
        issuer = f"{place}人民代表大会常务委员会"
    if doc_type == "judicial_interpretation" and "最高人民检察院" in title:
        issuer = "最高人民法院、最高人民检察院"
    name_date = re.search(r"\((\d{4}-\d{2}-\d{2})\)\.md$", rel)
    first, effective = header_dates(body)
    doc_number = next(
        (
            line.strip()
            for line in body.split("<!-- INFO END -->", 1)[0].splitlines()
            if re.fullmatch(r"\S+〔\d{4}〕\d+号", line.strip())
        ),
        None,
    )
    promulgated = name_date[1] if name_date else first
    if effective and promulgated and effective < promulgated:
        # The history header's 施行 line belongs to an earlier version.
        effective = None
    entry = manifest[f"laws/{rel}"]
    meta = {
        "title": title,
        "doc_type": doc_type,
        "issuer": issuer,
        "doc_number": doc_number,
        "promulgated": promulgated,
        "effective_date": effective,
        "region": region,
        "ip_types": ip_types_for(title),
        "aliases": ALIASES.get(title, []),
        "source": {
            "name": "LawRefBook/Laws（法律法规数据库）",
            "repo": entry["source_repo"],
            "path": entry["source_path"],
            "commit": entry["snapshot_commit"],
            "sha256": entry["sha256"],
        },
        "provenance": (
            "法律、法规和司法解释文本不适用著作权法保护（《中华人民共和国著作权法》第五条）。"
            "正文逐字取自 LawRefBook/Laws 快照，未作改动；本文件头部元数据由 weiyuan 项目添加。"
        ),
    }
    out_dir = {
        "law": "law",
        "administrative_regulation": "administrative_regulation",
        "judicial_interpretation": "judicial_interpretation",
        "departmental_rule": "departmental_rule",
        "local_regulation": f"local_regulation/{region}",
    }[doc_type]
    return out_dir, yaml_dump(meta)


def yaml_dump(meta: dict[str, object]) -> str:
    import yaml

    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)


def main() -> int:
    manifest_list = json.loads((SHARED / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest = {item["file"]: item for item in manifest_list}
    written = 0
    for path in sorted(SHARED.rglob("*.md")):
        rel = path.relative_to(SHARED).as_posix()
        if rel in SKIP:
            continue
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != manifest[f"laws/{rel}"]["sha256"]:
            print(f"sha256 mismatch for {rel}", file=sys.stderr)
            return 1
        out_dir, meta = front_matter(rel, raw.decode("utf-8"), manifest)
        target = OUT / out_dir / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"---\n" + meta.encode("utf-8") + b"---\n" + raw)
        written += 1
    print(f"wrote {written} policy files under {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
