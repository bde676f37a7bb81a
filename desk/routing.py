"""Pick the expert for a ticket: specialty, region, current load; a fallback pool when nobody fits.

Scoring, in order: the expert covers the ticket's IP type (or handles
``general`` questions when the type is unknown); covers its region (or all
of China: 全国); has capacity left; has the lowest load relative to
capacity.  Experts a ticket already went to (re-routing) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.experts import Expert
from core.vocabulary import NATIONWIDE

OPEN_STATUSES = ("open", "assigned", "in_progress")


@dataclass(frozen=True)
class Candidate:
    expert: Expert
    load: int

    @property
    def free(self) -> int:
        return self.expert.capacity - self.load


def _covers_type(expert: Expert, ip_type: str | None) -> bool:
    if not ip_type or ip_type == "general":
        return "general" in expert.specialties
    return ip_type in expert.specialties


def _covers_region(expert: Expert, region: str | None) -> bool:
    return NATIONWIDE in expert.regions or (region is not None and region in expert.regions)


def choose_expert(
    experts: Iterable[Expert],
    loads: dict[str, int],
    ip_type: str | None,
    region: str | None,
    exclude: Iterable[str] = (),
) -> Expert | None:
    """The best available expert, or None (the ticket waits in the shared pool)."""
    skip = set(exclude)
    candidates = [Candidate(e, loads.get(e.id, 0)) for e in experts if e.id not in skip]
    candidates = [c for c in candidates if c.free > 0]

    def rank(c: Candidate) -> tuple[int, int, float, int, str]:
        type_match = _covers_type(c.expert, ip_type)
        region_match = c.expert.regions != [NATIONWIDE] and region in c.expert.regions
        return (
            0 if type_match else 1,
            0 if region_match else (1 if _covers_region(c.expert, region) else 2),
            c.load / c.expert.capacity,
            -c.free,
            c.expert.id,
        )

    # first choice: type and region both fit; then type fits anywhere in China; then the general pool
    tiers = [
        [c for c in candidates if _covers_type(c.expert, ip_type) and _covers_region(c.expert, region)],
        [c for c in candidates if _covers_type(c.expert, ip_type)],
        [c for c in candidates if "general" in c.expert.specialties and NATIONWIDE in c.expert.regions],
    ]
    for tier in tiers:
        if tier:
            return min(tier, key=rank).expert
    return None
