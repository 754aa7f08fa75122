"""The bank file's format rules, shared by the compiler (a line is checked when it is compiled)
and the bank step (checked again when the file is written): every text field that goes into a
bank file must pass ``api.validators.bank_safe`` unchanged — no line break of any kind (``\\r``,
``\\n``, U+0085, U+2028/2029, …), no control or format character, no field separator (``|``,
``,``), not blank, already NFC and without surrounding spaces (so the file says exactly what the
instruction records). A line that fails is *held*, never written.

``bank_safe`` costs ~15 µs a field, too slow for a million lines checked twice, so a field made
only of characters that ``bank_safe`` itself has already accepted (memoised per character), NFC
and without surrounding whitespace, is accepted without calling it again; anything else gets the
full check and its exact message. The rules stay ``bank_safe``'s own: this module copies none."""

import unicodedata
from collections.abc import Sequence

from temporalio.exceptions import ApplicationError

from api.validators import bank_safe

MALFORMED_ANSWER = "MalformedBankAnswer"
BAD_FILE = "BadBankFile"

# Names of the text fields of a detail line, in file order.
LINE_FIELDS = ("reference", "account", "payee_name", "payee_id", "programme", "period")

_SAFE: set[str] = set()
_UNSAFE: set[str] = set()


def _char_safe(ch: str) -> bool:
    """Whether ``bank_safe`` accepts ``ch`` unchanged between two letters (memoised)."""
    if ch in _SAFE:
        return True
    if ch in _UNSAFE:
        return False
    probe = f"a{ch}a"
    try:
        ok = bank_safe(probe) == probe
    except ValueError:
        ok = False
    (_SAFE if ok else _UNSAFE).add(ch)
    return ok


def _known_good(value: str) -> bool:
    if not value or value[0].isspace() or value[-1].isspace():
        return False
    if not _SAFE.issuperset(value):
        if not all(_char_safe(ch) for ch in set(value)):
            return False
    return unicodedata.is_normalized("NFC", value)


def field_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be written as the bank-file field ``name``, or None."""
    if isinstance(value, str) and _known_good(value):
        return None
    if not isinstance(value, str):
        return f"{name}: 不是文本 / not text"
    try:
        clean = bank_safe(value)
    except ValueError as exc:
        return f"{name}: {exc}"
    if clean != value:
        return (
            f"{name}: 字段有首尾空格或未规范化，写入银行文件会改变内容 / field has surrounding "
            f"spaces or is not NFC ({value!r} would be written as {clean!r})"
        )
    return None


def _line_known_good(fields: Sequence[object]) -> bool:
    """Every field non-blank without surrounding whitespace, made of characters ``bank_safe``
    accepted, and NFC (ASCII always is): ``bank_safe`` would return each field unchanged."""
    for v in fields:
        if not isinstance(v, str) or not v or v[0].isspace() or v[-1].isspace():
            return False
    texts: list[str] = fields  # type: ignore[assignment]
    joined = "".join(texts)
    if not _SAFE.issuperset(joined) and not all(_char_safe(ch) for ch in set(joined)):
        return False
    return joined.isascii() or all(
        v.isascii() or unicodedata.is_normalized("NFC", v) for v in texts
    )


def line_problem(fields: Sequence[object]) -> str | None:
    """The first problem of a detail line's text fields (``LINE_FIELDS`` order), or None."""
    if _line_known_good(fields):
        return None
    for name, value in zip(LINE_FIELDS, fields, strict=True):
        problem = field_problem(name, value)
        if problem is not None:
            return f"银行文件格式不允许 / bank file format: {problem}"
    return None


def malformed(what: str) -> ApplicationError:
    """A bank answer that cannot be read: retrying reads the same bytes, so never retried."""
    return ApplicationError(
        f"银行回盘文件格式错误 / malformed bank answer: {what}",
        type=MALFORMED_ANSWER,
        non_retryable=True,
    )
