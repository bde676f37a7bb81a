"""Who takes over a conversation: the profile of a human expert (desk routing, pages, the corpus)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.vocabulary import IpType

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


class Expert(BaseModel):
    """Profile of a human expert who takes over conversations."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str
    name: str = Field(min_length=1)
    title: str | None = None
    organisation: str | None = None
    specialties: list[IpType] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    capacity: int = Field(ge=1, le=200)
    languages: list[str] = Field(default_factory=lambda: ["zh"])
    demo: bool = False

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("id 只能包含小写字母、数字和连字符（2–80 个字符）")
        return value
