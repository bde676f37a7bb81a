"""Personal data never reaches logs or analytics, in any of the forms people write it (generated values)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from core.redact import RedactingFilter, redact

FULL = str.maketrans("0123456789", "０１２３４５６７８９")
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
context = st.sampled_from(["我的电话是", "联系人王女士，", "请打", "卡号：", "证件 ", "", "邮箱 "])
after = st.sampled_from(["，谢谢", "。", " 尽快回复", "", "（工作日）"])


def numbers(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    core = "1" + draw(st.sampled_from("3456789")) + draw(numbers(9))
    sep = draw(st.sampled_from(["", "-", " ", "."]))
    text = core[:3] + sep + core[3:7] + sep + core[7:]
    text = draw(st.sampled_from(["", "+86", "+86 ", "86-"])) + text
    if draw(st.booleans()):
        text = text.translate(FULL)
    return text, core


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    area = "0" + draw(st.sampled_from("123456789")) + draw(numbers(draw(st.sampled_from([1, 2]))))
    number = draw(st.sampled_from("2345678")) + draw(numbers(draw(st.sampled_from([6, 7]))))
    form = draw(st.sampled_from(["{a}-{n}", "{a} {n}", "({a}){n}", "（{a}）{n}", "+86 {a2}-{n}", "{a}{n}"]))
    text = form.format(a=area, n=number, a2=area[1:])
    if draw(st.booleans()):
        text = text.translate(FULL)
    return text, number


@st.composite
def service_numbers(draw: st.DrawFn) -> tuple[str, str]:
    head = draw(st.sampled_from(["400", "800"]))
    rest = draw(numbers(7))
    sep = draw(st.sampled_from(["", "-", " "]))
    return f"{head}{sep}{rest[:3]}{sep}{rest[3:]}", rest


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(numbers(17)) + draw(st.sampled_from("0123456789X"))
    sep = draw(st.sampled_from(["", " ", "-"]))
    text = body[:6] + sep + body[6:14] + sep + body[14:]
    return text, body[6:14]


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, str]:
    card = draw(numbers(draw(st.integers(16, 19))))
    sep = draw(st.sampled_from(["", " ", "-"]))
    text = sep.join(card[i : i + 4] for i in range(0, len(card), 4))
    return text, card[4:12]


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, str]:
    user = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=3, max_size=20).filter(str.isalnum))
    domain = draw(st.sampled_from(["example.com", "qq.com", "163.com", "公司.中国", "mail.example.com.cn"]))
    at = draw(st.sampled_from(["@", "＠"]))
    return f"{user}{at}{domain}", f"{user}{at}"


@settings(max_examples=150, deadline=None)
@given(st.one_of(mobiles(), landlines(), service_numbers(), id_numbers(), bank_cards(), emails()), context, after)
def test_generated_personal_data_is_removed_in_every_format(case: tuple[str, str], before: str, tail: str) -> None:
    value, secret = case
    cleaned = redact(before + value + tail)
    assert secret not in cleaned and secret.translate(FULL) not in cleaned
    assert cleaned.startswith(before) and cleaned.endswith(tail)


def test_named_ids_and_codes_are_removed() -> None:
    text = "加我QQ：123456789 或者微信号 wx_abc12345，公司统一社会信用代码 91440300MA5DC12X3K"
    cleaned = redact(text)
    for secret in ("123456789", "wx_abc12345", "91440300MA5DC12X3K"):
        assert secret not in cleaned
    assert "[QQ号]" in cleaned and "[微信号]" in cleaned and "[信用代码]" in cleaned


def test_legal_text_and_amounts_are_left_alone() -> None:
    for text in (
        "专利法第六十五条，赔偿 500 万元",
        "2026-11-29 前提交，期限 15 日",
        "法释〔2025〕5号 第三条：违法所得数额在三万元以上",
        "商标注册号 12345678 的第 35 类",
    ):
        assert redact(text) == text


def test_a_long_adversarial_text_is_redacted_in_linear_time() -> None:
    """A 30 KB comment once blocked the event loop for a second, 4 MB for hours (a quadratic pattern)."""
    code = (
        "from core.redact import redact\n"
        "for text in ('a' * 400_000 + '@', '1' * 400_000, 'x.' * 200_000 + '@y', ' ' * 400_000 + '@a.cn'):\n"
        "    redact(text)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_tracebacks_in_logs_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("INSERT failed for phone 13812345678, id 110101199003071234")
        except ValueError:
            logger.exception("could not save ticket for 王女士 13987654321")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "13812345678" not in output and "110101199003071234" not in output and "13987654321" not in output
    assert "ValueError" in output and "[手机号]" in output


def test_json_log_lines_are_redacted_and_parse() -> None:
    import json

    from core.redact import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter("gateway"))
    logger = logging.getLogger("test.redact.json")
    logger.addHandler(handler)
    try:
        logger.warning("relay failed for %s, 联系邮箱 %s", "13812345678", "wang@example.cn")
        try:
            raise ValueError("INSERT failed for id 110101199003071234")
        except ValueError:
            logger.exception("could not save ticket")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["level"] for line in lines] == ["WARNING", "ERROR"]
    assert lines[0]["process"] == "gateway" and lines[0]["logger"] == "test.redact.json"
    assert "[手机号]" in lines[0]["message"] and "13812345678" not in lines[0]["message"]
    assert "wang@example.cn" not in lines[0]["message"]
    assert "ValueError" in lines[1]["traceback"] and "110101199003071234" not in lines[1]["traceback"]
