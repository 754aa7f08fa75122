"""Shared boundary validators: every bad input is refused at the API edge with a 4xx.

Each check is a plain function raising ``ValueError`` with a Chinese-then-English message, and
most come as a pydantic v2 ``Annotated`` type for request schemas, so FastAPI's 422 names the
offending field. Query/path integers are plain ``Annotated[int, Field(...)]`` aliases that work
in bodies and as ``Query``/``Path`` parameters alike. ``BodySizeLimit`` is a pure ASGI
middleware that answers 413 before an over-long body reaches the app.

Text rules (names, free text, short text, bank fields): text is NFC-normalised and stripped of
surrounding spaces; characters that are invisible or that change how text is laid out (control,
format, surrogate, private-use, unassigned, line and paragraph separators) are refused anywhere,
including at the edges, because they corrupt notices, publicity lists and bank files.
"""

import json
import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiuzhu.clock import beijing_today
from rules.id_number import birth_date_from_id, validate_id_number

__all__ = [
    "EARLIEST_BIRTH_DATE",
    "EARLIEST_PAPER_DATE",
    "EARLIEST_PAYROLL_YEAR",
    "FREE_TEXT_MAX",
    "MAX_BODY_BYTES",
    "MAX_HOUSEHOLD_MEMBERS",
    "MONEY_MAX",
    "PAYROLL_YEARS_AHEAD",
    "PERSON_NAME_MAX",
    "SHORT_TEXT_MAX",
    "BankAccount",
    "BankField",
    "BodySizeLimit",
    "FreeText",
    "IdNumber",
    "Limit",
    "Money",
    "Offset",
    "OptionalFreeText",
    "OptionalShortText",
    "PaperDate",
    "PayeeName",
    "PayrollPeriod",
    "PersonName",
    "PositiveMoney",
    "RowId",
    "ShortText",
    "bank_account",
    "bank_safe",
    "blank_or",
    "free_text",
    "household_size_ok",
    "id_number",
    "money",
    "paper_date",
    "paper_date_not_after",
    "payroll_period",
    "period_bounds",
    "person_name",
    "positive_money",
    "short_text",
]

# --------------------------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------------------------

PERSON_NAME_MAX: Final = 50
FREE_TEXT_MAX: Final = 2000
SHORT_TEXT_MAX: Final = 200

# Unicode general categories refused in every text field: control (Cc: NUL, TAB, CR, LF,
# U+0085 …), format (Cf: zero-width U+200B–U+200D, U+2060, U+FEFF, bidi controls
# U+202A–U+202E and U+2066–U+2069 …), surrogate, private use, unassigned, and the line and
# paragraph separators U+2028/U+2029.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

_CATEGORY_NAMES: Final = {
    "Cc": ("控制字符", "control character"),
    "Cf": ("格式字符（零宽或双向控制符等）", "format character (zero-width, bidi control …)"),
    "Cs": ("代理码位", "surrogate"),
    "Co": ("私用区字符", "private-use character"),
    "Cn": ("未分配的字符", "unassigned character"),
    "Zl": ("行分隔符", "line separator"),
    "Zp": ("段分隔符", "paragraph separator"),
}

# Python 3.11 ships the Unicode 14 database, in which CJK Extensions H, I and J (GB 18030-2022
# names) are still unassigned ("Cn"). Planes 2 and 3 are reserved by Unicode for ideographs, so
# code points there are accepted as ideographs whatever the local database says.
_IDEOGRAPH_PLANES: Final = range(0x20000, 0x40000)

# Separators between the parts of a minority or foreign name: U+00B7 MIDDLE DOT (the form
# used by the household register, e.g. 阿依古丽·买买提) and U+30FB KATAKANA MIDDLE DOT (what many
# Chinese IMEs produce). Look-alikes are refused with a hint rather than silently rewritten,
# because a name must match the household register and the payee's bank account exactly.
_NAME_DOT_LOOKALIKES: Final = frozenset({"\u2022", "\u2219", "\u22c5", "\u2027", "\uff65"})

# Line breaks of any kind, for bank file fields.
_LINE_BREAKS: Final = frozenset({"\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"})
_BANK_SEPARATORS: Final = frozenset({"|", ","})


def _codepoint(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _category(ch: str) -> str:
    if ord(ch) in _IDEOGRAPH_PLANES:
        return "Lo"
    return unicodedata.category(ch)


def _normalise(text: str, also_strip: frozenset[str] = frozenset()) -> str:
    """NFC, then strip surrounding spaces (category Zs: ASCII space, NBSP, U+3000 …) and any
    character of ``also_strip``."""
    value = unicodedata.normalize("NFC", text)

    def edge(ch: str) -> bool:
        return ch in also_strip or unicodedata.category(ch) == "Zs"

    start, end = 0, len(value)
    while start < end and edge(value[start]):
        start += 1
    while end > start and edge(value[end - 1]):
        end -= 1
    return value[start:end]


def _refuse_forbidden(
    value: str, what_zh: str, what_en: str, allowed: frozenset[str] = frozenset()
) -> None:
    for position, ch in enumerate(value, start=1):
        if ch in allowed:
            continue
        category = _category(ch)
        if category in _FORBIDDEN_CATEGORIES:
            kind_zh, kind_en = _CATEGORY_NAMES[category]
            raise ValueError(
                f"{what_zh}第{position}个字符{_codepoint(ch)}是{kind_zh}，不允许 / {what_en} has "
                f"a disallowed {kind_en} {_codepoint(ch)} at position {position}"
            )


def _require_str(value: object, what_zh: str, what_en: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what_zh}必须是文本 / {what_en} must be a string")
    return value


def _text(
    value: object,
    *,
    max_len: int,
    what_zh: str,
    what_en: str,
    allowed: frozenset[str] = frozenset(),
) -> str:
    # Line breaks that are allowed (FreeText's "\n") are trimmed at the edges too.
    text = _normalise(_require_str(value, what_zh, what_en), allowed)
    if not text:
        raise ValueError(f"{what_zh}不能为空 / {what_en} is blank")
    if len(text) > max_len:
        raise ValueError(
            f"{what_zh}不能超过{max_len}个字符，实际为{len(text)}个 / {what_en} is longer than "
            f"{max_len} characters ({len(text)})"
        )
    _refuse_forbidden(text, what_zh, what_en, allowed)
    return text


# --------------------------------------------------------------------------------------------
# Names and text
# --------------------------------------------------------------------------------------------


def person_name(value: object) -> str:
    """A person's name: NFC, stripped, 1–50 characters, no invisible or layout characters.

    Rare CJK ideographs (Extension A, B and beyond: 王𡉃, 𠮷) and the separators ``·``/``・`` of
    minority names (阿依古丽·买买提) are valid. Interior whitespace is only ever a single ASCII
    space (foreign names in Latin letters); ``•`` and other look-alike dots are refused, and so
    are ``|`` and ``,``: a name may become a payee in a bank file, whose separators they are
    (issue 11 item 7: checked when it enters the system).
    """
    name = _text(value, max_len=PERSON_NAME_MAX, what_zh="姓名", what_en="name")
    for position, ch in enumerate(name, start=1):
        if ch in _BANK_SEPARATORS:
            raise ValueError(
                f"姓名不能包含银行文件分隔符“{ch}”（第{position}个字符） / name must not contain "
                f"the bank file separator {ch!r} (position {position})"
            )
        if ch in _NAME_DOT_LOOKALIKES:
            raise ValueError(
                f"姓名第{position}个字符{_codepoint(ch)}不是间隔号，请使用“·” / name has "
                f"{_codepoint(ch)} at position {position}; separate name parts with · (U+00B7)"
            )
        if ch.isspace():
            if ch != " ":
                raise ValueError(
                    f"姓名中间只能有半角空格，第{position}个字符为{_codepoint(ch)} / name may "
                    f"only contain single ASCII spaces, found {_codepoint(ch)} at position "
                    f"{position}"
                )
            if name[position].isspace():  # the last character is never a space: stripped
                raise ValueError(
                    f"姓名中间不能有连续空格（第{position}个字符起） / name has a run of spaces "
                    f"at position {position}"
                )
    return name


def free_text(value: object) -> str:
    """Findings, grounds, objection text: NFC, stripped, 1–2000 characters; ``\\n`` line breaks
    are kept, every other control or format character (``\\r``, TAB, NUL, U+2028/2029, bidi
    and zero-width characters) is refused."""
    return _text(
        value, max_len=FREE_TEXT_MAX, what_zh="文本", what_en="text", allowed=frozenset("\n")
    )


def short_text(value: object) -> str:
    """A one-line text (titles, places, reasons): NFC, stripped, 1–200 characters, no control
    or format character and no line break."""
    return _text(value, max_len=SHORT_TEXT_MAX, what_zh="文本", what_en="text")


def bank_safe(text: str) -> str:
    """A field written into a bank payment file (payee name, account): no line break of any
    kind, no control or format character, and neither ``|`` nor ``,`` (the file separators).

    Returns the text NFC-normalised and stripped; refuses blank text.
    """
    value = _normalise(_require_str(text, "银行文件字段", "bank field"))
    if not value:
        raise ValueError("银行文件字段不能为空 / bank field is blank")
    for position, ch in enumerate(value, start=1):
        if ch in _LINE_BREAKS or _category(ch) in {"Zl", "Zp"}:
            raise ValueError(
                f"银行文件字段第{position}个字符为换行符{_codepoint(ch)} / bank field has a line "
                f"break {_codepoint(ch)} at position {position}"
            )
        if ch in _BANK_SEPARATORS:
            raise ValueError(
                f"银行文件字段不能包含分隔符“{ch}”（第{position}个字符） / bank field must not "
                f"contain the separator {ch!r} (position {position})"
            )
    _refuse_forbidden(value, "银行文件字段", "bank field")
    return value


_ACCOUNT = re.compile(r"[0-9]{6,32}", re.ASCII)


def bank_account(value: object) -> str:
    """A bank or social-security card account number: 6–32 ASCII digits (full-width digits,
    spaces and separators refused), checked by :func:`bank_safe` first."""
    text = bank_safe(_require_str(value, "账号", "account number"))
    if not _ACCOUNT.fullmatch(text):
        raise ValueError("账号应为6至32位半角数字 / an account number is 6 to 32 ASCII digits")
    return text


def blank_or(check: Callable[[object], str]) -> Callable[[object], str]:
    """``check`` for an optional text whose blank value (``""`` or spaces) means "none":
    blank text is returned as ``""``, anything else must pass ``check``."""

    def optional(value: object) -> str:
        if isinstance(value, str) and not _normalise(value):
            return ""
        return check(value)

    return optional


PersonName = Annotated[str, AfterValidator(person_name)]
"""A person's name (applicant, household member, payee): see :func:`person_name`."""

FreeText = Annotated[str, AfterValidator(free_text)]
"""Findings, grounds, objection text (max 2000, ``\\n`` allowed): see :func:`free_text`."""

ShortText = Annotated[str, AfterValidator(short_text)]
"""One-line text (max 200): see :func:`short_text`."""

BankField = Annotated[str, AfterValidator(bank_safe)]
"""A payee name or account that goes into a bank file: see :func:`bank_safe`."""

OptionalFreeText = Annotated[str, AfterValidator(blank_or(free_text))]
""":data:`FreeText` where blank means "none" (an optional note): blank → ``""``."""

OptionalShortText = Annotated[str, AfterValidator(blank_or(short_text))]
""":data:`ShortText` where blank means "none": blank → ``""``."""

PayeeName = Annotated[str, AfterValidator(person_name), AfterValidator(bank_safe)]
"""A payee or card holder's name: a :data:`PersonName` that is also :func:`bank_safe`."""

BankAccount = Annotated[str, AfterValidator(bank_account)]
"""An account number written into a bank file: see :func:`bank_account`."""


# --------------------------------------------------------------------------------------------
# Identity numbers
# --------------------------------------------------------------------------------------------

EARLIEST_BIRTH_DATE: Final = date(1900, 1, 1)


def id_number(value: object, *, today: date | None = None) -> str:
    """An 18-character resident identity number (GB 11643-1999), returned upper-case.

    Length, characters, a real birth date and the check digit are checked by
    :func:`rules.id_number.validate_id_number`; here the birth date must also lie between
    1900-01-01 and today (Beijing).
    """
    text = _require_str(value, "身份证号码", "identity number")
    normalised = validate_id_number(text)
    born = birth_date_from_id(normalised)
    if born < EARLIEST_BIRTH_DATE:
        raise ValueError(
            f"身份证号码中的出生日期{born.isoformat()}早于1900-01-01 / the birth date in the "
            f"identity number ({born.isoformat()}) is before 1900-01-01"
        )
    limit = today if today is not None else beijing_today()
    if born > limit:
        raise ValueError(
            f"身份证号码中的出生日期{born.isoformat()}晚于今天 / the birth date in the identity "
            f"number ({born.isoformat()}) is in the future"
        )
    return normalised


IdNumber = Annotated[str, AfterValidator(id_number)]
"""A resident identity number: see :func:`id_number`."""


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

EARLIEST_PAPER_DATE: Final = date(2000, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _paper_date_input(value: object) -> object:
    """Only ``YYYY-MM-DD`` text (or a ``date``) is a paper date: no timestamps, no datetimes."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("日期格式应为YYYY-MM-DD / a date is written YYYY-MM-DD")


def paper_date(value: date, *, today: date | None = None) -> date:
    """The date printed on a paper act (applied_on, decided_on, visited_on …): not before
    2000-01-01 and not after today (Beijing)."""
    if value < EARLIEST_PAPER_DATE:
        raise ValueError(
            f"日期{value.isoformat()}早于2000-01-01 / date {value.isoformat()} is before 2000-01-01"
        )
    limit = today if today is not None else beijing_today()
    if value > limit:
        raise ValueError(
            f"日期{value.isoformat()}晚于今天（{limit.isoformat()}） / date {value.isoformat()} "
            f"is after today ({limit.isoformat()})"
        )
    return value


def paper_date_not_after(today: date) -> Callable[[date], date]:
    """:func:`paper_date` with a fixed "today", e.g. for tests:
    ``Annotated[date, AfterValidator(paper_date_not_after(date(2025, 3, 1)))]``."""

    def check(value: date) -> date:
        return paper_date(value, today=today)

    return check


PaperDate = Annotated[date, BeforeValidator(_paper_date_input), AfterValidator(paper_date)]
"""A date on a paper act, ``YYYY-MM-DD``: see :func:`paper_date`."""


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------

MONEY_MAX: Final = Decimal("10000000.00")
_CENT: Final = Decimal("0.01")
_MONEY_TEXT = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,2})?", re.ASCII)
_MONEY_SHAPE_ZH: Final = (
    "金额应为不超过两位小数的非负数，只用半角数字 / an amount is a non-negative number with at "
    "most 2 decimal places in ASCII digits"
)


def money(value: object) -> Decimal:
    """An amount in yuan given as a JSON string or number, returned as ``Decimal`` with 2 places.

    The text must be ASCII digits with an optional ``.`` and at most two decimals: full-width
    digits, exponents, signs, spaces, NaN/Infinity and a third decimal are refused, as is
    anything above 10,000,000.00. A JSON number arrives as ``int``/``float`` and is judged by its
    shortest round-trip form (``12.345`` is refused; ``1e3`` parses to ``1000.0`` and is kept).
    """
    if isinstance(value, bool):
        raise ValueError(_MONEY_SHAPE_ZH)
    if isinstance(value, Decimal):  # from Python code, not from JSON
        if not value.is_finite():
            raise ValueError(_MONEY_SHAPE_ZH)
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)  # shortest form that round-trips; "nan"/"inf"/"1e+16" are refused
        text = text.removesuffix(".0")
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(_MONEY_SHAPE_ZH)
    if not _MONEY_TEXT.fullmatch(text):
        raise ValueError(_MONEY_SHAPE_ZH)
    try:
        amount = Decimal(text).quantize(_CENT)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise ValueError(_MONEY_SHAPE_ZH) from None
    if amount > MONEY_MAX:
        raise ValueError(
            f"金额不能超过{MONEY_MAX:,}元 / an amount may not exceed {MONEY_MAX:,} yuan"
        )
    return amount


def positive_money(value: object) -> Decimal:
    """:func:`money` that is also greater than zero."""
    amount = money(value)
    if amount <= 0:
        raise ValueError("金额必须大于0 / the amount must be greater than 0")
    return amount


def _money_schema(exclusive: bool) -> dict[str, Any]:
    lower = {"exclusiveMinimum": 0} if exclusive else {"minimum": 0}
    return {
        "anyOf": [
            {"type": "string", "pattern": r"^[0-9]{1,20}(\.[0-9]{1,2})?$", "examples": ["1234.50"]},
            {"type": "number", **lower, "maximum": 10_000_000, "multipleOf": 0.01},
        ]
    }


Money = Annotated[
    Decimal,
    BeforeValidator(money),
    WithJsonSchema(_money_schema(exclusive=False), mode="validation"),
]
"""Non-negative yuan, at most 10,000,000.00, 2 places: see :func:`money`."""

PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(positive_money),
    WithJsonSchema(_money_schema(exclusive=True), mode="validation"),
]
"""Yuan greater than 0: see :func:`positive_money`."""


# --------------------------------------------------------------------------------------------
# Bounded integers for paging and ids
# --------------------------------------------------------------------------------------------


def _not_bool(value: object) -> object:
    """``true``/``false`` are not numbers (pydantic's lax mode would read them as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("应为整数，不能是true/false / expected an integer, not a boolean")
    return value


Offset = Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(_not_bool)]
"""Paging offset, 0 … 1,000,000."""

Limit = Annotated[int, Field(ge=1, le=200), BeforeValidator(_not_bool)]
"""Page size of a case list, 1 … 200 (the route chooses the default)."""

LongLimit = Annotated[int, Field(ge=1, le=500), BeforeValidator(_not_bool)]
"""Page size of a ledger or batch list, 1 … 500 (the route chooses the default)."""

RowId = Annotated[int, Field(ge=1, le=2**53 - 1), BeforeValidator(_not_bool)]
"""A database row id, 1 … 2**53 − 1 (exact in JavaScript)."""


# --------------------------------------------------------------------------------------------
# Payroll periods and households
# --------------------------------------------------------------------------------------------

EARLIEST_PAYROLL_YEAR: Final = 2000
PAYROLL_YEARS_AHEAD: Final = 10
"""How far ahead a payroll month may be named (a schedule's future run, tests' isolated months)."""
_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])", re.ASCII)


def payroll_period(value: object, *, today: date | None = None) -> str:
    """A payroll month ``YYYY-MM``: month 01–12, year 2000 … ten years ahead (Beijing)."""
    text = _require_str(value, "发放期", "payroll period")
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise ValueError(
            f"发放期格式应为YYYY-MM（月份01–12），实际为{text[:20]!r} / a payroll period is "
            f"YYYY-MM with month 01–12, got {text[:20]!r}"
        )
    year = int(match.group(1))
    latest = (today if today is not None else beijing_today()).year + PAYROLL_YEARS_AHEAD
    if not EARLIEST_PAYROLL_YEAR <= year <= latest:
        raise ValueError(
            f"发放期年份应在{EARLIEST_PAYROLL_YEAR}至{latest}之间，实际为{year} / the payroll "
            f"year must be between {EARLIEST_PAYROLL_YEAR} and {latest}, got {year}"
        )
    return text


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a payroll period: ``"2024-02"`` → (2024-02-01, 2024-02-29)."""
    text = payroll_period(period)
    year, month = int(text[:4]), int(text[5:7])
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


PayrollPeriod = Annotated[str, AfterValidator(payroll_period)]
"""A payroll month ``YYYY-MM``: see :func:`payroll_period`."""

MAX_HOUSEHOLD_MEMBERS: Final = 30


def household_size_ok(n: int, limit: int = MAX_HOUSEHOLD_MEMBERS) -> int:
    """Number of household members: 1 … ``limit`` (from policy; default 30). Returns ``n``."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError("家庭成员人数必须是整数 / household size must be an integer")
    if n < 1:
        raise ValueError("家庭成员至少1人 / a household has at least 1 member")
    if n > limit:
        raise ValueError(
            f"家庭成员不能超过{limit}人，实际为{n}人 / a household has at most {limit} members, "
            f"got {n}"
        )
    return n


# --------------------------------------------------------------------------------------------
# Request body size
# --------------------------------------------------------------------------------------------

MAX_BODY_BYTES: Final = 1_048_576
_PROBLEM_JSON: Final = b"application/problem+json"


def _size_text(n: int) -> str:
    if n >= 1_048_576 and n % 1_048_576 == 0:
        return f"{n // 1_048_576} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} 字节"


async def _send_problem(
    send: Send, status: int, title: str, field: str, detail: str, *, close: bool = False
) -> None:
    """A middleware's own ``application/problem+json`` answer, shaped like the routes' (the
    ``errors`` list names the field); ``close``: the connection is not reused."""
    payload = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "errors": [{"field": field, "message": detail}],
        },
        ensure_ascii=False,
    ).encode("utf-8")
    headers = [
        (b"content-type", _PROBLEM_JSON),
        (b"content-length", str(len(payload)).encode("ascii")),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def control_character_field(path: str, query_string: bytes) -> str | None:
    """The first part of a URL carrying a control character (U+0000–U+001F, U+007F–U+009F):
    ``"path"``, or the name of the query parameter (its value or its name); None when clean.
    ``query_string`` as received (percent-encoded); it is decoded as UTF-8 the way the routes
    read it. No identifier, code, date or filter of Jiuzhu contains one, and PostgreSQL refuses
    NUL in text: such a URL is refused before any route or database sees it."""
    if any(unicodedata.category(c) == "Cc" for c in path):
        return "path"
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    for name, value in pairs:
        if any(unicodedata.category(c) == "Cc" for c in name + value):
            return name if name.isprintable() else "query"
    return None


class UrlHygiene:
    """Pure ASGI middleware: 422 ``application/problem+json`` naming the field for a URL whose
    path or query carries a control character (``control_character_field``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = control_character_field(scope.get("path", ""), scope.get("query_string", b""))
            if field is not None:
                detail = f"{field}: 不能包含控制字符 / must not contain control characters"
                await _send_problem(send, 422, "Unprocessable Content", field, detail)
                return
        await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once the body has streamed past the limit."""


class BodySizeLimit:
    """Pure ASGI middleware: 413 ``application/problem+json`` for a request body over
    ``max_bytes``, whether announced by ``Content-Length`` (refused before reading) or streamed
    chunked (counted while received; the app never gets more than ``max_bytes``).

    ``app.add_middleware(BodySizeLimit, max_bytes=1_048_576)``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be non-negative")
        self.app = app
        self.max_bytes = max_bytes

    def _declared_length(self, scope: Scope) -> int | None:
        for name, raw in scope.get("headers", ()):
            if name.lower() == b"content-length":
                text = raw.decode("latin-1").strip()
                if text.isascii() and text.isdigit():
                    return int(text)
        return None

    async def _reject(self, send: Send) -> None:
        detail = (
            f"请求体超过 {_size_text(self.max_bytes)} / request body over {self.max_bytes} bytes"
        )
        await _send_problem(send, 413, "Content Too Large", "body", detail, close=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = self._declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(send)
            return

        received = 0
        exceeded = False  # the body went past the limit before any response started
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = not started
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a truncated body (e.g. a 400) is replaced by 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await self._reject(send)
