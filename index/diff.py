"""What changed between two index versions: chunks added, changed and removed, documents touched."""

from __future__ import annotations

from typing import Any

from index.store import VersionStore
from index.versiondata import read_chunks


def diff_versions(store: VersionStore, old: str, new: str, limit: int = 200) -> dict[str, Any]:
    old_manifest, new_manifest = store.manifest(old), store.manifest(new)
    old_chunks = {c.id: c for c in read_chunks(store.path(old))}
    new_chunks = {c.id: c for c in read_chunks(store.path(new))}
    added = sorted(set(new_chunks) - set(old_chunks))
    removed = sorted(set(old_chunks) - set(new_chunks))
    changed = sorted(
        i for i in new_chunks if i in old_chunks and new_chunks[i].content_hash != old_chunks[i].content_hash
    )
    old_docs: dict[str, str] = old_manifest.get("documents", {})
    new_docs: dict[str, str] = new_manifest.get("documents", {})

    def rows(ids: list[str], source: dict[str, Any]) -> list[dict[str, str]]:
        return [{"id": i, "title": source[i].title, "kind": source[i].kind} for i in ids[:limit]]

    return {
        "from": old,
        "to": new,
        "counts": {"added": len(added), "changed": len(changed), "removed": len(removed)},
        "added": rows(added, new_chunks),
        "changed": rows(changed, new_chunks),
        "removed": rows(removed, old_chunks),
        "documents": {
            "added": sorted(set(new_docs) - set(old_docs)),
            "removed": sorted(set(old_docs) - set(new_docs)),
            "changed": sorted(d for d in new_docs if d in old_docs and new_docs[d] != old_docs[d]),
        },
    }
