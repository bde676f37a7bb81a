"""Who takes over a conversation: the profile of a human expert (desk routing, pages, the corpus)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.vocabulary import IpType, RecordId


class Expert(BaseModel):
    """Profile of a human expert who takes over conversations."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: RecordId
    name: str = Field(min_length=1)
    title: str | None = None
    organisation: str | None = None
    specialties: list[IpType] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    capacity: int = Field(ge=1, le=200)
    languages: list[str] = Field(default_factory=lambda: ["zh"])
    demo: bool = False
