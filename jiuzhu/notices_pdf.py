"""PDF rendering of notices (the non-pure companion of ``rules.notices``).

The PDF is built with ``fpdf2`` from the same Jinja2 body HTML as the web version, set in
Noto Serif SC (思源宋体, SIL Open Font License 1.1) shipped by the PyPI package
``pylopdf-fonts-zh-cn`` (pinned in pyproject.toml). The font is embedded as a subset, so the PDF
displays the same everywhere; nothing is downloaded at run time.
"""

from pathlib import Path

import pylopdf_fonts_zh_cn
from fpdf import FPDF
from fpdf.fonts import FontFace

from rules.notices import Notice, notice_title, render_notice_body_html

__all__ = ["FONT_FAMILY", "font_path", "render_notice_pdf"]

FONT_FAMILY = "NotoSerifSC"


def font_path() -> Path:
    """Path of the embedded CJK font file (Noto Serif SC Regular, OpenType/CFF)."""
    return Path(pylopdf_fonts_zh_cn.serif_path())


def render_notice_pdf(notice: Notice) -> bytes:
    """An A4 PDF of ``notice`` with the CJK font embedded; returns the PDF bytes."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(notice_title(notice))
    pdf.set_author(notice.authority)
    pdf.set_creator("Jiuzhu")
    pdf.set_lang("zh-CN")
    path = str(font_path())
    # One regular face serves every style: there is no bold/italic cut in the package.
    for style in ("", "B", "I", "BI"):
        pdf.add_font(FONT_FAMILY, style, path)
    pdf.set_font(FONT_FAMILY, size=12)
    pdf.set_margins(left=25, top=25, right=25)
    pdf.add_page()
    pdf.write_html(
        render_notice_body_html(notice),
        font_family=FONT_FAMILY,
        tag_styles={
            "h1": FontFace(family=FONT_FAMILY, color="#000000", size_pt=20),
        },
        li_prefix_color="#000000",
    )
    return bytes(pdf.output())
