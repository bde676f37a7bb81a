"""The domain vocabulary every layer shares: IP types, services, kinds, law status, regions.

One definition each: the corpus schema, the dialogue, the desk and the pages all
read these names and labels from here (a ``Literal`` for the type checker and
the label dict users see, checked against each other at import).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator

IpType = Literal[
    "patent",
    "trademark",
    "copyright",
    "trade_secret",
    "geographical_indication",
    "plant_variety",
    "ic_layout",
    "unfair_competition",
    "ecommerce",
    "general",
]
IP_TYPES: tuple[str, ...] = IpType.__args__  # type: ignore[attr-defined]

IP_TYPE_LABELS: dict[str, str] = {
    "patent": "专利",
    "trademark": "商标",
    "copyright": "著作权",
    "trade_secret": "商业秘密",
    "geographical_indication": "地理标志",
    "plant_variety": "植物新品种",
    "ic_layout": "集成电路布图设计",
    "unfair_competition": "反不正当竞争",
    "ecommerce": "电子商务",
    "general": "综合",
}

Service = Literal[
    "consultation",
    "infringement_judgment",
    "mediation_arbitration",
    "fast_handling",
    "exhibition",
    "overseas",
    "ecommerce_complaint",
    "early_warning",
    "assistance_application",
    "administrative_enforcement",
    "litigation",
    "customs",
    "sme_support",
]
SERVICES: tuple[str, ...] = Service.__args__  # type: ignore[attr-defined]

SERVICE_LABELS: dict[str, str] = {
    "consultation": "咨询指导",
    "infringement_judgment": "侵权判定参考意见",
    "mediation_arbitration": "调解与仲裁",
    "fast_handling": "纠纷快速处理",
    "exhibition": "展会维权",
    "overseas": "海外纠纷应对",
    "ecommerce_complaint": "电商平台投诉",
    "early_warning": "分析预警",
    "assistance_application": "维权援助申请",
    "administrative_enforcement": "行政投诉与查处",
    "litigation": "诉讼",
    "customs": "海关保护",
    "sme_support": "中小微企业服务",
}

Kind = Literal["policy", "entry", "case"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
KIND_LABELS: dict[str, str] = {"policy": "法规政策", "entry": "知识库", "case": "案例"}

DocType = Literal[
    "law",
    "administrative_regulation",
    "judicial_interpretation",
    "local_regulation",
    "departmental_rule",
    "policy_document",
    "guide",
]

#: Region of nationally applicable material.
NATIONWIDE = "全国"

LawStatus = Literal["in_force", "not_yet_in_force", "superseded", "repealed"]
LAW_STATUS_LABELS: dict[str, str] = {
    "in_force": "现行有效",
    "not_yet_in_force": "尚未施行",
    "superseded": "已被修订",
    "repealed": "已废止",
}


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

#: Regions offered as filters on the staff pages (nationwide material first).
REGIONS: list[str] = [NATIONWIDE, *PROVINCES]

for _literal, _labels in ((IP_TYPES, IP_TYPE_LABELS), (SERVICES, SERVICE_LABELS), (KINDS, KIND_LABELS)):
    assert set(_literal) == set(_labels), "a Literal and its labels disagree"


_RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


def _check_record_id(value: str) -> str:
    if not _RECORD_ID.match(value):
        raise ValueError("id 只能包含小写字母、数字和连字符（2–80 个字符）")
    return value


#: The id of an entry, case or expert: lowercase letters, digits and hyphens (it appears in URLs and files).
RecordId = Annotated[str, AfterValidator(_check_record_id)]
