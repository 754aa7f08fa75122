"""Line breaking for Chinese notices (禁则处理, GB/T 15834-2011 标点符号用法 5.1.x; W3C
"Requirements for Chinese Text Layout" §3.1.7): the PDF line breaker of ``jiuzhu.notices_pdf``.

Rules:

1. A line never starts with closing or pausing punctuation (行首禁则): ，。、；：？！）」』〕】》〉
   ”’…— and their ASCII forms ``, . ; : ? ! ) ] } %``.
2. A line never ends with opening punctuation (行尾禁则): （「『〔【《〈“‘ and ``( [ {``.
3. Numbers, dates, amounts and ids stay whole: a run of ASCII letters and digits with the
   joiners inside it (``2026-03-05``, ``1,234.56``, ``CN@2021-07-01+41``, ``0391-1234567``), a
   written date (``2026年3月5日``) and a number with its unit (``850.00元``, ``60日``) are one
   unit, and so is a document number's ``〔2021〕57号``; with rules 1–2, ``〔2018〕`` stays
   whole wherever it stands.
4. Otherwise a line may break between any two CJK characters, and at an ASCII space (which
   is then dropped; the ideographic space U+3000 is a character like any other, so blanks left
   for handwriting stay).

Lines are filled greedily. A unit that is wider than a whole line on its own (a very long id) is
the one case broken inside, by character, still never before closing punctuation.

Pure: ``measure`` (text → width) is passed in; no fonts, no I/O.
"""

import re
from collections.abc import Callable

__all__ = ["CLOSING", "OPENING", "break_lines", "units"]

CLOSING = frozenset("，。、；：？！）」』〕】》〉”’…—·％,.;:?!)]}%")
"""May not start a line (行首禁则)."""

OPENING = frozenset("（「『〔【《〈“‘([{")
"""May not end a line (行尾禁则)."""

_ATOM = re.compile(
    r"""
    〔\d{4}〕\d+号                                  # 〔2021〕57号 (a document number)
  | \d{1,4}年(?:\d{1,2}月(?:\d{1,2}日)?)?          # 2026年 / 2026年3月 / 2026年3月5日
  | \d{1,2}月\d{1,2}日                              # 3月5日
  | [A-Za-z0-9]+(?:[-./:@+_,'][A-Za-z0-9]+)*       # 1,234.56  2026-03-05  CN@2021+41  ids
    [年月日号元人条个天项次岁]?                    # with its unit: 850.00元  60日
  | [ \t]+                                          # a break opportunity (not U+3000)
  | .                                               # any other character
    """,
    re.VERBOSE | re.DOTALL,
)


def _is_space(unit: str) -> bool:
    return unit != "" and unit.strip(" \t") == ""


def units(text: str) -> list[str]:
    """The unbreakable units of ``text``, in order (spaces are units of their own): numbers and
    ids whole, opening punctuation glued to what follows, closing punctuation to what
    precedes."""
    atoms: list[str] = _ATOM.findall(text)
    glued: list[str] = []
    pending_open = ""
    for atom in atoms:
        if _is_space(atom):
            if pending_open:  # "（ " — keep the opening bracket with the space's successor
                pending_open += atom
                continue
            glued.append(atom)
            continue
        if atom in OPENING:
            pending_open += atom
            continue
        atom = pending_open + atom
        pending_open = ""
        if atom[0] in CLOSING and any(not _is_space(g) for g in glued):
            # closing punctuation never starts a line, even after a space: it and the spaces
            # before it go with the last unit that is not a space
            last = max(i for i, g in enumerate(glued) if not _is_space(g))
            glued[last] += "".join(glued[last + 1 :]) + atom
            del glued[last + 1 :]
        else:
            glued.append(atom)
    if pending_open:
        if glued and not _is_space(glued[-1]):
            glued[-1] += pending_open
        else:
            glued.append(pending_open)
    return glued


def _split_long(unit: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """A unit wider than a line, broken by character (never before closing punctuation, never
    after opening punctuation)."""
    pieces: list[str] = []
    current = ""
    for char in unit:
        breakable = char not in CLOSING and current[-1:] not in OPENING
        if current and breakable and measure(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def break_lines(
    text: str,
    width: float,
    measure: Callable[[str], float],
    first_width: float | None = None,
) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (the first no wider than
    ``first_width`` when given) by the rules above. Forced breaks (``\\n``) are kept; an empty
    paragraph gives one empty line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_break_paragraph(paragraph, width, measure, first_width))
        first_width = None
    return lines


def _break_paragraph(
    text: str, width: float, measure: Callable[[str], float], first_width: float | None
) -> list[str]:
    lines: list[str] = []
    current = ""
    current_width = 0.0
    limit = first_width if first_width is not None else width
    widths: dict[str, float] = {}

    def size(unit: str) -> float:
        if unit not in widths:
            widths[unit] = measure(unit)
        return widths[unit]

    def flush() -> None:
        nonlocal current, current_width, limit
        lines.append(current.rstrip(" \t"))
        current, current_width, limit = "", 0.0, width

    for unit in units(text):
        if _is_space(unit):
            if current:
                current += " "
                current_width += size(" ")
            continue
        unit_width = size(unit)
        if current_width + unit_width <= limit + 1e-9:
            current += unit
            current_width += unit_width
            continue
        if current.strip(" \t"):
            flush()
        else:
            current, current_width = "", 0.0
        if unit_width <= limit + 1e-9:
            current, current_width = unit, unit_width
            continue
        pieces = _split_long(unit, limit, measure)
        for piece in pieces[:-1]:
            lines.append(piece)
            limit = width
        current = pieces[-1]
        current_width = measure(current)
    if current.strip(" \t") or not lines:
        lines.append(current.rstrip(" \t"))
    return lines
