"""Which version of each text is in force on the law date.

A policy file records dates, not a status: ``effective_date``, the file of
the text that replaces it (``superseded_by``, which applies from its own
effective date, or from ``superseded_on`` when the successor is not shipped) and
``repealed_on``.  The status follows from the **law
date** (setting ``law_date``, default today), so on 2027-01-01 the 2026
商标法 takes over from the 2019 text without anyone editing a file, and a test
can set the date.

Citations name the text in force by its title; any other version by its
title and version (``中华人民共和国商标法（2019年文本）``), so both can sit in
one index without their articles being confused.
"""

from __future__ import annotations

import datetime as dt

from index.schema import Policy


def resolve_law_date(value: dt.date | None) -> dt.date:
    return value or dt.date.today()


def _successor_start(policy: Policy, by_path: dict[str, Policy]) -> dt.date | None:
    if policy.meta.superseded_on:  # a successor the corpus does not hold
        return policy.meta.superseded_on
    target = policy.meta.superseded_by
    if not target:
        return None
    successor = by_path.get(target)
    if successor is None:
        return None
    return successor.meta.effective_date


def apply_law_date(policies: list[Policy], day: dt.date) -> tuple[list[Policy], dt.date | None]:
    """The policies with status, citation key and note set for ``day``; and the next date any changes."""
    by_path = {p.path: p for p in policies}
    out: list[Policy] = []
    upcoming: list[dt.date] = []
    for policy in policies:
        meta = policy.meta
        start = meta.effective_date
        replaced_from = _successor_start(policy, by_path)
        if meta.repealed_on and meta.repealed_on <= day:
            status, note = "repealed", f"已于 {meta.repealed_on:%Y-%m-%d} 废止：{meta.repealed_by or ''}".rstrip("：")
        elif replaced_from and replaced_from <= day:
            status, note = "superseded", f"已被 {replaced_from:%Y-%m-%d} 起施行的新版本取代"
            if meta.superseded_on:
                note += f"：{meta.superseded_by or '新版本'}，本知识库未收录新文本"
        elif start and start > day:
            status, note = "not_yet_in_force", f"{start:%Y-%m-%d} 起施行，目前尚未施行"
        else:
            status = "in_force"
            note = f"修订后的新版本将于 {replaced_from:%Y-%m-%d} 起施行" if replaced_from else ""
        for change in (start, replaced_from, meta.repealed_on):
            if change and change > day:
                upcoming.append(change)
        out.append(policy.model_copy(update={"status": status, "status_note": note}))
    # keys: the title for the text in force, title + version for the others
    in_force_titles = {p.meta.title for p in out if p.status == "in_force"}
    keyed = []
    for policy in out:
        if policy.status == "in_force" or policy.meta.title not in in_force_titles:
            key = policy.meta.title
        else:
            year = policy.meta.promulgated.year if policy.meta.promulgated else None
            key = f"{policy.meta.title}（{year}年文本）" if year else f"{policy.meta.title}（旧文本）"
        keyed.append(policy.model_copy(update={"key": key}))
    return keyed, (min(upcoming) if upcoming else None)
