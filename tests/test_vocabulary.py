"""The IP-type vocabulary is written in two places that must agree: Rasa's entity synonyms
(``bot/data/nlu/entities.yml``, which DIET learns from) and ``consult/vocabulary.py`` (which maps
whatever DIET extracts onto the retriever's keys).  A form DIET can produce must never be dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from consult.vocabulary import IP_WORDS, canonical_ip_type
from core.vocabulary import IP_TYPE_LABELS, IP_TYPES

ROOT = Path(__file__).resolve().parent.parent


def rasa_ip_synonyms() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "bot" / "data" / "nlu" / "entities.yml").read_text("utf-8"))["nlu"]
    forms: dict[str, str] = {}
    for item in data:
        if item.get("synonym") in IP_TYPES:
            for line in item["examples"].splitlines():
                if line.strip().startswith("- "):
                    forms[line.strip()[2:].strip()] = item["synonym"]
    return forms


@pytest.mark.parametrize(("form", "ip_type"), sorted(rasa_ip_synonyms().items()))
def test_every_surface_form_rasa_knows_maps_to_the_same_ip_type(form: str, ip_type: str) -> None:
    assert canonical_ip_type(form) == ip_type


def test_the_words_that_detect_an_ip_type_agree_with_rasa() -> None:
    rasa = rasa_ip_synonyms()
    disagree = [(w, t, rasa[w]) for t, words in IP_WORDS.items() for w in words if w in rasa and rasa[w] != t]
    assert disagree == []
    assert set(IP_WORDS) <= set(IP_TYPE_LABELS)
