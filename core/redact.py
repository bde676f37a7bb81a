"""Remove personal data from logs, analytics, feedback and knowledge drafts.

Conversations and tickets keep what users typed (the desk needs the contact
details, for as long as the retention setting allows); everything written to
logs or aggregated for analytics goes through :func:`redact` first.

What is recognised (each pattern is tested with generated values in every
format below, ``tests/test_redact.py``):

* resident ID numbers: 18 digits (last may be X), also grouped 6-8-4 with spaces
  or dashes; the old 15-digit form;
* bank card numbers: 16–19 digits, also in groups of four;
* unified social credit codes (统一社会信用代码, 18 characters);
* e-mail addresses, also with a full-width ＠ and non-ASCII names or domains;
* mobile numbers: 11 digits from 13–19, with or without +86, with dashes,
  spaces or dots between the groups;
* landlines: area code (0xx/0xxx, also in brackets, also after +86) and number;
  400/800 service numbers;
* QQ numbers and WeChat ids named as such (QQ 12345678, 微信号 wx_abc123).

Digits may be full-width (０–９).  Every pattern has bounded repetition only,
so the time is linear in the length of the text: a megabyte of adversarial
input cannot stall the process that redacts it.
"""

from __future__ import annotations

import json
import logging
import re

_D = "[0-9０-９]"
_NOT_D = "(?<![0-9０-９])"
_END_D = "(?![0-9０-９])"
_SEP = r"[-\s.·－]?"
_USCC_CHAR = "[0-9A-HJ-NPQRTUWXY]"
#: one label of a domain name: ASCII, or Chinese (公司.中国)
_LABEL = "(?:[A-Za-z0-9-]{1,63}|[\u4e00-\u9fff]{1,20})"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # 18-digit resident ID (last char may be X), plain or grouped 6-8-4; the old 15-digit form
    (
        re.compile(
            rf"(?<![0-9０-９A-Za-z]){_D}{{6}}[\s-]?{_D}{{8}}[\s-]?{_D}{{3}}[0-9０-９Xxｘ](?![0-9０-９A-Za-z])"
            rf"|{_NOT_D}{_D}{{15}}{_END_D}"
        ),
        "[身份证号]",
    ),
    # bank cards: 16-19 digits, plain or in groups of four
    (re.compile(rf"{_NOT_D}{_D}{{4}}(?:[\s-]?{_D}{{4}}){{3}}(?:[\s-]?{_D}{{1,3}})?{_END_D}"), "[银行卡号]"),
    # unified social credit code: 2 letters/digits, 6-digit area code, 10 letters/digits
    (re.compile(rf"(?<![0-9A-Za-z]){_USCC_CHAR}{{2}}\d{{6}}{_USCC_CHAR}{{10}}(?![0-9A-Za-z])"), "[信用代码]"),
    # e-mail: bounded parts (RFC limits), ASCII or not, @ or ＠
    (re.compile(rf"[A-Za-z0-9._%+-]{{1,64}}[@＠]{_LABEL}(?:[.．]{_LABEL}){{1,6}}"), "[邮箱]"),
    # mainland mobile numbers, optionally with +86 and separators between the groups
    (
        re.compile(rf"{_NOT_D}(?:(?:\+|＋)?(?:86|８６){_SEP})?[1１][3-9３-９]{_D}(?:{_SEP}{_D}{{4}}){{2}}{_END_D}"),
        "[手机号]",
    ),
    # 400 / 800 service numbers
    (re.compile(rf"{_NOT_D}[48４８][0０]{{2}}{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}{_END_D}"), "[电话]"),
    # landlines: area code (after +86 without its 0, in brackets, or plain) + 7-8 digit number
    (
        re.compile(
            rf"(?:(?:\+|＋)?(?:86|８６){_SEP}[0０]?[1-9１-９]{_D}{{1,2}}{_SEP}"
            rf"|[(（][0０]?{_D}{{2,3}}[)）]\s?"
            rf"|{_NOT_D}[0０]{_D}{{2,3}}{_SEP})"
            rf"{_D}{{3,4}}{_SEP}{_D}{{4}}{_END_D}"
        ),
        "[电话]",
    ),
    # QQ numbers and WeChat ids, when named as such
    (re.compile(rf"(?:QQ|qq|ＱＱ|扣扣)\s{{0,3}}(?:号码?)?\s{{0,3}}[:：]?\s{{0,3}}{_D}{{5,11}}{_END_D}"), "[QQ号]"),
    (
        re.compile(r"(?:微信|WeChat|wechat|VX|vx|wx|WX)\s{0,3}(?:号)?\s{0,3}[:：]?\s{0,3}[A-Za-z][-_A-Za-z0-9]{5,19}"),
        "[微信号]",
    ),
]


def redact(text: str) -> str:
    """``text`` with personal identifiers replaced by placeholders (linear time)."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record: its message and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            # a database error can print the values of the row it failed on
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (time, level, logger, process, message, traceback) for log shippers.

    Records pass the redacting filter first, so what is written here is already redacted.
    """

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def install(level: int = logging.INFO, *, json_lines: bool = False, process: str = "") -> None:
    """Configure root logging with redaction on every handler; ``json_lines`` for structured logs."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
        if json_lines:
            handler.setFormatter(JsonFormatter(process))
