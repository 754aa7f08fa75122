"""PDF rendering of notices (the non-pure companion of ``rules.notices``).

The PDF is laid out with ``fpdf2`` from the same Jinja2 body HTML as the web version: headings,
paragraphs, numbered lists, tables, the seal area (盖章, a dashed circle over the signature) and
the delivery receipt (送达回证) on a page of its own. Lines are broken by
``jiuzhu.line_breaking`` (禁则: no line starts with closing punctuation, numbers, dates and
document numbers such as ``〔2018〕`` stay whole) — not by fpdf2's own breaker, which breaks CJK
text anywhere.

Fonts (embedded as subsets; nothing is downloaded at run time):

- Noto Serif SC (思源宋体, SIL OFL 1.1) from the PyPI package ``pylopdf-fonts-zh-cn`` (pinned in
  pyproject.toml) sets the text. It covers the URO and CJK Extension A in full but only 52 of
  the 42,711 Extension B ideographs.
- HanaMinB (花園明朝B, from GlyphWiki; free licence) covers all of CJK Extension B and serves as
  fpdf2's fallback font (``set_fallback_fonts``), so a name such as 王𡉃 or 𠮷 prints in full.
  It comes from Debian's ``fonts-hanazono`` (see README "Fonts"): no PyPI package ships an
  Extension B font. It is registered only for a notice that needs it (loading it costs ~0.7 s).

Before anything is drawn every character of every field is checked against the fonts: a
character no font has refuses the render (``MissingGlyphs``, 422 naming the field, e.g.
``applicant_name`` or ``rows.0.name``) — never the silent drop fpdf2 does on its own.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
from fontTools.ttLib import TTFont
from fpdf import FPDF

from jiuzhu.line_breaking import break_lines
from rules.notices import Notice, notice_title, render_notice_body_html

__all__ = [
    "EXTENSION_FONT_PATHS",
    "FALLBACK_FAMILY",
    "FONT_FAMILY",
    "MissingGlyphs",
    "extension_font_path",
    "font_path",
    "glyph_message",
    "missing_glyphs",
    "render_document_pdf",
    "render_notice_pdf",
]

FONT_FAMILY = "NotoSerifSC"
FALLBACK_FAMILY = "HanaMinB"

EXTENSION_FONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),  # Debian/Ubuntu fonts-hanazono
    Path("/usr/share/fonts/hanazono/HanaMinB.ttf"),
    Path("/usr/local/share/fonts/HanaMinB.ttf"),
)
"""Where the Extension B font is looked for (the first that exists)."""

# Characters that need no glyph: spacing and line structure.
_NO_GLYPH = frozenset(" \t\r\n\u3000\u200b\u200c\u200d\ufeff")


def font_path() -> Path:
    """Path of the main CJK font file (Noto Serif SC Regular, OpenType/CFF)."""
    return Path(pylopdf_fonts_zh_cn.serif_path())


def extension_font_path() -> Path | None:
    """Path of the CJK Extension B font (HanaMinB), or ``None`` where it is not installed."""
    return next((p for p in EXTENSION_FONT_PATHS if p.is_file()), None)


@lru_cache(maxsize=4)
def _cmap(path: Path) -> frozenset[int]:
    """The code points a font maps (read once per process)."""
    font = TTFont(str(path), lazy=True, fontNumber=0)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def _main_cmap() -> frozenset[int]:
    return _cmap(font_path())


def _fallback_cmap() -> frozenset[int]:
    path = extension_font_path()
    return _cmap(path) if path is not None else frozenset()


# --- the glyph check ------------------------------------------------------------------------
class MissingGlyphs(ValueError):
    """Characters no embedded font has, by field: ``problems`` is ``[(loc, characters)]``."""

    def __init__(self, problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = list(problems)
        described = "；".join(
            f"{'.'.join(str(p) for p in loc)}: {_describe(chars)}" for loc, chars in problems
        )
        super().__init__(f"字体缺少字形，无法打印：{described}")


def _describe(chars: str) -> str:
    return "、".join(f"「{c}」(U+{ord(c):04X})" for c in chars)


def glyph_message(chars: str) -> str:
    """The 422 message for a field whose characters cannot be printed."""
    return (
        f"字符{_describe(chars)}不在通知书所嵌入的字体中，无法打印；"
        "请核对姓名用字或安装覆盖该字符的字体后重试"
    )


def _strings(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*loc, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def missing_glyphs(payload: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Every field of ``payload`` (a notice as JSON data) holding characters that neither the
    main font nor the Extension B font has: ``[(loc, missing characters)]``, in field order."""
    main = _main_cmap()
    fallback: frozenset[int] | None = None
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for loc, text in _strings(payload, ()):
        missing = ""
        for char in text:
            if char in _NO_GLYPH or ord(char) in main:
                continue
            if fallback is None:
                fallback = _fallback_cmap()
            if ord(char) not in fallback and char not in missing:
                missing += char
        if missing:
            problems.append((loc, missing))
    return problems


def _needs_fallback(texts: Sequence[str]) -> bool:
    main = _main_cmap()
    return any(ord(c) not in main and c not in _NO_GLYPH for text in texts for c in text)


# --- HTML body → blocks ---------------------------------------------------------------------
@dataclass
class _Cell:
    text: str = ""
    header: bool = False
    width: float | None = None  # percent


@dataclass
class _Block:
    kind: str  # h1 | h2 | p | li | table | seal | page
    text: str = ""
    align: str = "L"
    css: str = ""
    number: int = 0
    rows: list[list[_Cell]] = field(default_factory=list)


class _BodyParser(HTMLParser):
    """The small HTML the notice templates produce, as layout blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._current: _Block | None = None
        self._list_counter = 0
        self._table: _Block | None = None
        self._cell: _Cell | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        align = {"right": "R", "center": "C"}.get(a.get("align", ""), "L")
        if tag in ("h1", "h2", "p"):
            self._current = _Block(kind=tag, align=align, css=a.get("class", ""))
        elif tag == "ol":
            self._list_counter = 0
        elif tag == "li":
            self._list_counter += 1
            self._current = _Block(kind="li", number=self._list_counter)
        elif tag == "br":
            if self._cell is not None:
                self._cell.text += "\n"
            elif self._current is not None:
                self._current.text += "\n"
        elif tag == "div" and "seal" in a.get("class", "").split():
            self.blocks.append(_Block(kind="seal", text=a.get("title", "")))
            self._current = _Block(kind="ignore")
        elif tag == "div" and "receipt" in a.get("class", "").split():
            self.blocks.append(_Block(kind="page"))
        elif tag == "table":
            self._table = _Block(kind="table", css=a.get("class", ""))
        elif tag == "tr" and self._table is not None:
            self._table.rows.append([])
        elif tag in ("td", "th") and self._table is not None and self._table.rows:
            width = a.get("width", "")
            self._cell = _Cell(
                header=tag == "th",
                width=float(width[:-1]) if width.endswith("%") else None,
            )
            self._table.rows[-1].append(self._cell)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "p", "li") and self._current is not None:
            if self._current.kind != "ignore":
                self._current.text = self._current.text.strip(" \n\t")
                self.blocks.append(self._current)
            self._current = None
        elif tag == "div" and self._current is not None and self._current.kind == "ignore":
            self._current = None
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "table" and self._table is not None:
            self.blocks.append(self._table)
            self._table = None

    def handle_data(self, data: str) -> None:
        text = data.replace("\n", "")
        if self._cell is not None:
            self._cell.text += text
        elif self._current is not None:
            self._current.text += text


def _blocks(body_html: str) -> list[_Block]:
    parser = _BodyParser()
    parser.feed(body_html)
    parser.close()
    return parser.blocks


# --- layout ---------------------------------------------------------------------------------
_MARGIN = 25.0
_BODY_PT = 12.0
_LINE = 7.4  # mm: about 1.75 × 12 pt
_SIZES = {"h1": 20.0, "h2": 16.0}


class _Layout:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.width = pdf.w - 2 * _MARGIN
        self.bottom = pdf.h - _MARGIN
        self.sign_box: tuple[float, float, float] | None = None  # page, top, bottom

    def measure(self, text: str) -> float:
        return self.pdf.get_string_width(text)

    def ensure(self, height: float) -> None:
        if self.pdf.get_y() + height > self.bottom:
            self.pdf.add_page()

    def lines(
        self,
        text: str,
        *,
        size: float = _BODY_PT,
        align: str = "L",
        indent: float = 0.0,
        line: float = _LINE,
        prefix: str = "",
    ) -> tuple[float, float]:
        """Draws ``text`` broken by the 禁则 breaker; returns (top, bottom) of the last page's
        part."""
        pdf = self.pdf
        pdf.set_font(FONT_FAMILY, size=size)
        width = self.width - indent
        top = pdf.get_y()
        for index, text_line in enumerate(break_lines(text, width, self.measure)):
            self.ensure(line)
            if index == 0:
                top = pdf.get_y()
                if prefix:
                    pdf.set_x(_MARGIN)
                    pdf.cell(indent, line, prefix)
            pdf.set_xy(_MARGIN + indent, pdf.get_y())
            pdf.cell(width, line, text_line, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT_FAMILY, size=_BODY_PT)
        return top, pdf.get_y()

    def table(self, block: _Block) -> None:
        pdf = self.pdf
        columns = max((len(r) for r in block.rows), default=0)
        if columns == 0:
            return
        first = block.rows[0]
        if all(c.width is not None for c in first) and len(first) == columns:
            widths = [self.width * (c.width or 0) / 100 for c in first]
        else:
            widths = [self.width / columns] * columns
        size = 11.0
        line = 6.4
        pad = 1.5
        pdf.set_font(FONT_FAMILY, size=size)
        for row in block.rows:
            wrapped = [
                break_lines(cell.text.strip(" \n\t"), widths[i] - 2 * pad, self.measure)
                for i, cell in enumerate(row)
            ]
            height = max(len(w) for w in wrapped) * line + 2 * pad
            height = max(height, 10.0 if block.css == "receipt" else 0.0)
            self.ensure(height)
            y = pdf.get_y()
            x = _MARGIN
            for i, cell in enumerate(row):
                pdf.rect(x, y, widths[i], height)
                align = "C" if (cell.header or block.css != "receipt") else "L"
                for j, text_line in enumerate(wrapped[i]):
                    pdf.set_xy(x + pad, y + pad + j * line)
                    pdf.cell(widths[i] - 2 * pad, line, text_line, align=align)
                x += widths[i]
            pdf.set_xy(_MARGIN, y + height)
        pdf.set_font(FONT_FAMILY, size=_BODY_PT)
        pdf.ln(3)

    def seal(self, authority: str) -> None:
        """The seal area: a dashed circle (42 mm, the size of an official seal) over the
        signature, with 盖章处 inside."""
        pdf = self.pdf
        if self.sign_box is None:
            return
        page, top, bottom = self.sign_box
        if page != pdf.page:
            return
        radius = 21.0
        cx = pdf.w - _MARGIN - radius - 4
        cy = (top + bottom) / 2
        pdf.set_draw_color(200, 0, 0)
        pdf.set_text_color(200, 0, 0)
        with pdf.local_context():
            pdf.set_dash_pattern(dash=1.5, gap=1.2)
            pdf.circle(x=cx, y=cy, radius=radius, style="D")
        pdf.set_font(FONT_FAMILY, size=9)
        pdf.set_xy(cx - radius, cy + radius - 9)
        pdf.cell(2 * radius, 5, "（盖章处）", align="C")
        pdf.set_draw_color(0, 0, 0)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT_FAMILY, size=_BODY_PT)
        pdf.set_xy(_MARGIN, max(pdf.get_y(), bottom))

    def draw(self, blocks: Sequence[_Block]) -> None:
        pdf = self.pdf
        for block in blocks:
            if block.kind in _SIZES:
                size = _SIZES[block.kind]
                self.ensure(size * 0.6)
                self.lines(block.text, size=size, align="C", line=size * 0.55)
                pdf.ln(3)
            elif block.kind == "p":
                if block.css == "sign":
                    pdf.ln(8)
                    self.ensure(2 * _LINE)
                    top, bottom = self.lines(block.text, align="R")
                    self.sign_box = (pdf.page, top, bottom)
                    pdf.ln(6)
                else:
                    self.lines(block.text, align=block.align)
                    pdf.ln(1.5)
            elif block.kind == "li":
                self.lines(block.text, indent=8.0, prefix=f"{block.number}.")
                pdf.ln(0.5)
            elif block.kind == "table":
                self.table(block)
            elif block.kind == "seal":
                self.seal(block.text)
            elif block.kind == "page":
                pdf.add_page()


def render_document_pdf(title: str, author: str, body_html: str, payload: Any) -> bytes:
    """An A4 PDF of a notice body (``body_html`` from its template) with the fonts embedded.
    ``payload`` is the notice's data: every string in it is checked for glyphs first
    (``MissingGlyphs`` names the fields that cannot be printed)."""
    problems = missing_glyphs(payload)
    if problems:
        raise MissingGlyphs(problems)
    blocks = _blocks(body_html)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("Jiuzhu")
    pdf.set_lang("zh-CN")
    pdf.add_font(FONT_FAMILY, "", str(font_path()))
    fallback = extension_font_path()
    if fallback is not None and _needs_fallback([b.text for b in blocks] + _cell_texts(blocks)):
        pdf.add_font(FALLBACK_FAMILY, "", str(fallback))
        pdf.set_fallback_fonts([FALLBACK_FAMILY])
    pdf.set_font(FONT_FAMILY, size=_BODY_PT)
    pdf.set_margins(left=_MARGIN, top=_MARGIN, right=_MARGIN)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    _Layout(pdf).draw(blocks)
    return bytes(pdf.output())


def _cell_texts(blocks: Sequence[_Block]) -> list[str]:
    return [cell.text for b in blocks for row in b.rows for cell in row]


def render_notice_pdf(notice: Notice) -> bytes:
    """An A4 PDF of ``notice`` with the CJK fonts embedded; returns the PDF bytes.
    ``MissingGlyphs`` if a field holds a character no embedded font has."""
    return render_document_pdf(
        notice_title(notice),
        notice.authority,
        render_notice_body_html(notice),
        notice.model_dump(mode="json"),
    )
