"""Validation of the assistance-application form fields (messages in Chinese)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from consult.vocabulary import IP_WORDS
from index.schema import IP_TYPE_LABELS
from index.textnorm import normalize

PROVINCES = [
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "台湾",
]

#: Cities people name instead of their province.
CITY_PROVINCE = {
    "深圳": "广东",
    "广州": "广东",
    "佛山": "广东",
    "东莞": "广东",
    "珠海": "广东",
    "中山": "广东",
    "汕头": "广东",
    "杭州": "浙江",
    "宁波": "浙江",
    "温州": "浙江",
    "义乌": "浙江",
    "绍兴": "浙江",
    "柯桥": "浙江",
    "金华": "浙江",
    "台州": "浙江",
    "南京": "江苏",
    "苏州": "江苏",
    "无锡": "江苏",
    "常州": "江苏",
    "南通": "江苏",
    "徐州": "江苏",
    "济南": "山东",
    "青岛": "山东",
    "烟台": "山东",
    "潍坊": "山东",
    "淄博": "山东",
    "临沂": "山东",
    "成都": "四川",
    "武汉": "湖北",
    "长沙": "湖南",
    "郑州": "河南",
    "洛阳": "河南",
    "厦门": "福建",
    "福州": "福建",
    "泉州": "福建",
    "晋江": "福建",
    "三亚": "海南",
    "海口": "海南",
    "昆明": "云南",
    "合肥": "安徽",
    "长春": "吉林",
    "西安": "陕西",
    "石家庄": "河北",
    "南昌": "江西",
    "贵阳": "贵州",
    "南宁": "广西",
    "太原": "山西",
    "沈阳": "辽宁",
    "大连": "辽宁",
    "哈尔滨": "黑龙江",
    "兰州": "甘肃",
    "乌鲁木齐": "新疆",
    "呼和浩特": "内蒙古",
}


_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


@dataclass(frozen=True)
class Checked:
    """A validated value, or the reason to ask again."""

    value: str | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_phone(text: str) -> Checked:
    digits = re.sub(r"[\s\-()（）]", "", normalize(text))
    if _MOBILE.match(digits):
        return Checked(digits[-11:])
    if _LANDLINE.match(digits):
        return Checked(digits)
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
