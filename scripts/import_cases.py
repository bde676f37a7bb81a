#!/usr/bin/env python3
"""Copy the Supreme People's Court guiding cases from ``../shared/cases`` into ``knowledge/cases``.

The texts (裁判要点, 基本案情, 裁判理由, 裁判结果) are kept as published (official
judicial documents are not protected by copyright: 著作权法 第五条).  What the
project adds is the ``references`` in **current** numbering: each case cites
the articles in force when it was decided, kept verbatim in
``original_references``; the mapping below was checked by hand against the
texts in ``knowledge/policies`` (e.g. 1993 反不正当竞争法 第五条 → 2025 第七条,
2010 著作权法 第四十八条 → 2020 第五十三条, 侵权责任法 第三十六条 → 民法典
第一千一百九十五条).  Provisions outside the corpus (民事诉讼法, 民法通则, 合同法 第五条)
are not cited; the caveats say so.

Run when the shared cases change: ``python scripts/import_cases.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "cases" / "spc_guiding_ip_cases.jsonl"
OUT = ROOT / "knowledge" / "cases" / "spc-guiding-cases.yaml"

AUCL, TM, CR, PT = "反不正当竞争法", "商标法", "著作权法", "专利法"
#: guiding case number -> current articles it rests on (law alias, article)
CURRENT: dict[int, list[tuple[str, str]]] = {
    29: [(AUCL, "第七条")],
    30: [(AUCL, "第二条")],
    45: [(AUCL, "第二条")],
    46: [(TM, "第五十九条")],
    47: [(AUCL, "第七条")],
    48: [(CR, "第五十三条"), ("计算机软件保护条例", "第二条"), ("计算机软件保护条例", "第三条"), ("计算机软件保护条例", "第二十四条")],
    49: [("计算机软件保护条例", "第三条")],
    55: [(PT, "第二十六条"), (PT, "第六十四条")],
    58: [(TM, "第五十七条"), (AUCL, "第二条"), (AUCL, "第九条")],
    80: [(CR, "第三条"), ("著作权法实施条例", "第二条")],
    82: [(TM, "第五十七条")],
    83: [("民法典", "第一千一百九十五条"), ("民法典", "第一千一百九十七条")],
    85: [(PT, "第六十四条")],
    86: [("植物新品种保护条例", "第二条"), ("植物新品种保护条例", "第七条"), ("植物新品种保护条例", "第四十一条")],
    219: [(AUCL, "第二十二条")],
}  # fmt: skip
NOT_CITED = {
    29: "民法通则第一百二十条已随民法典施行废止，未列入依据。",
    82: "民事诉讼法第十三条（诚信原则）不在知识库中，未列入依据。",
    86: "合同法第五条已随民法典施行废止，未列入依据。",
}


def key_points(holding: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"\s*(?:^|\s)\d+[.．、]\s*", holding) if p.strip()]
    return parts or [holding.strip()]


def main() -> int:
    cases = []
    for line in SHARED.read_text("utf-8").splitlines():
        row = json.loads(line)
        number = int(row["guiding_no"])
        final = row["proceedings"][-1] if row["proceedings"] else {}
        caveats = []
        if row.get("possibly_truncated_fields"):
            fields = "、".join(row["possibly_truncated_fields"])
            caveats.append(f"来源解析可能截断了部分字段（{fields}），全文以最高人民法院网站为准。")
        caveats.append("裁判时引用的是当时的法条序号（见 original_references），references 为现行对应条文。")
        if number in NOT_CITED:
            caveats.append(NOT_CITED[number])
        cases.append(
            {
                "id": f"spc-guiding-case-{number}",
                "label": f"指导案例{number}号",
                "title": row["title"],
                "court_or_agency": row.get("final_court") or final.get("court"),
                "date": final.get("date"),
                "case_number": row.get("final_case_number") or final.get("case_number"),
                "ip_type": row["ip_type"],
                "region": "全国",
                "facts": row["facts"].strip(),
                "holding": (row.get("result") or "").strip() or row["holding"].strip(),
                "key_points": key_points(row["holding"]),
                "reasoning": (row.get("reasoning") or "").strip() or None,
                "original_references": row.get("related_law"),
                "caveats": caveats,
                "references": [{"law": law, "article": art} for law, art in CURRENT[number]],
                "source": {
                    "name": f"最高人民法院指导性案例（{row['repo']} 的整理文本）",
                    "url": row.get("source_url_upstream"),
                    "repo": row["repo"],
                    "path": row["path"],
                    "commit": row["commit"],
                    "sha256": row["raw_sha256"],
                },
            }
        )
    data = {
        "provenance": (
            "最高人民法院发布的知识产权指导性案例。裁判文书和指导性案例不适用著作权法保护（《中华人民共和国著作权法》第五条）；"
            "文本取自 ../shared/cases/spc_guiding_ip_cases.jsonl（见其 README 的来源与核对说明），"
            "现行条文对应（references）由 weiyuan 项目核对添加。"
        ),
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
