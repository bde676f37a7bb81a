"""Validation of the assistance-application form fields (messages in Chinese)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from consult.vocabulary import IP_WORDS
from core.contact import normalize_phone
from core.vocabulary import CITY_PROVINCE, IP_TYPE_LABELS, PROVINCES
from index.textnorm import normalize

#: The Rasa form that collects an assistance application (bot/domain).
FORM = "assistance_application_form"


@dataclass(frozen=True)
class Checked:
    """A validated value, or the reason to ask again."""

    value: str | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_phone(text: str) -> Checked:
    phone = normalize_phone(normalize(text))
    if phone is not None:
        return Checked(phone)
    return Checked(None, "这个号码看起来不完整。请填写 11 位手机号，或带区号的固定电话（如 020-12345678）。")


def check_company(text: str) -> Checked:
    value = text.strip()
    if len(value) < 2:
        return Checked(None, "请填写企业或单位的全称；个人申请可以填写“个人”。")
    if len(value) > 100:
        return Checked(None, "名称太长了，请只填写企业或单位名称。")
    return Checked(value)


def check_person(text: str) -> Checked:
    value = text.strip()
    if not 1 <= len(value) <= 30 or re.search(r"\d{5,}", value):
        return Checked(None, "请填写联系人的姓名（例如“王女士”或“李明”）。")
    return Checked(value)


def check_region(text: str) -> Checked:
    value = normalize(text)
    for province in PROVINCES:
        if province in value:
            return Checked(province)
    for city, province in CITY_PROVINCE.items():
        if city in value:
            return Checked(province)
    return Checked(None, "没有识别出地区。请告诉我所在的省份或城市，例如“广东深圳”或“浙江”。")


def check_ip_type(text: str) -> Checked:
    value = normalize(text)
    if value in IP_TYPE_LABELS:
        return Checked(value)
    for ip_type, words in IP_WORDS.items():
        if any(word in value for word in words):
            return Checked(ip_type)
    if any(w in value for w in ("不知道", "不清楚", "不确定", "其他", "其它")):
        return Checked("general")
    return Checked(None, "请选择涉及的知识产权类型：专利、商标、著作权、商业秘密、地理标志等；不确定可以回答“不确定”。")


def check_description(text: str) -> Checked:
    value = text.strip()
    if len(value) < 10:
        return Checked(None, "请再具体说说发生了什么（至少 10 个字）：谁、在哪里、做了什么、你们有哪些证据。")
    if len(value) > 2000:
        return Checked(value[:2000])
    return Checked(value)
