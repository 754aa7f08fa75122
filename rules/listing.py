"""The long-term public listing (长期公示) of a village's assisted households, pure.

低保办法 Art. 23–24 and 焦民〔2022〕154号 十一 (seed 002): 强化低保对象长期公示，注意公示内容、
方式和范围，保护个人隐私. What is shown: the head of household's name masked (张*明), the household
size, the programme and the monthly amount. Never shown: ID numbers, address, illness or
disability — the listing's row model has no field for them, so no caller can put them in."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

from rules.authorities import village_name
from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme


def mask_name(name: str) -> str:
    """Mask a name for public posting: the first and last characters stay, the rest become
    ``*`` (张*明, 欧阳**芳); a two-character name keeps its first (王*); one character is ``*``."""
    n = name.strip()
    if len(n) <= 1:
        return "*"
    if len(n) == 2:
        return n[0] + "*"
    return n[0] + "*" * (len(n) - 2) + n[-1]


@dataclass(frozen=True)
class ListingRow:
    """One household on the listing: nothing else may be published."""

    masked_name: str
    household_size: int
    programme: Programme
    monthly_amount: Decimal


@dataclass(frozen=True)
class PublicListing:
    village_code: str
    authority: str
    as_of: date
    rows: tuple[ListingRow, ...]
    hotline: str

    @property
    def title(self) -> str:
        """``社会救助对象长期公示（东街社区）``: the village's name from the area registry."""
        return f"社会救助对象长期公示（{village_name(self.village_code)}）"

    @property
    def total(self) -> Decimal:
        return sum((r.monthly_amount for r in self.rows), Decimal("0.00"))


def listing_rows(rows: list[tuple[str, int, str, Decimal]]) -> tuple[ListingRow, ...]:
    """``(name, household size, programme, monthly amount)`` → masked rows, by programme then
    masked name (a stable order that reveals nothing)."""
    out = [
        ListingRow(
            masked_name=mask_name(name),
            household_size=size,
            programme=Programme(programme),
            monthly_amount=Decimal(amount).quantize(Decimal("0.01")),
        )
        for name, size, programme, amount in rows
    ]
    return tuple(sorted(out, key=lambda r: (r.programme.value, r.masked_name)))


def render_listing_html(listing: PublicListing) -> str:
    """The notice-board page (HTML)."""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(listing.title)}</title></head><body>",
        f"<h1>{escape(listing.title)}</h1>",
        f"<p>公示单位：{escape(listing.authority)}　公示日期：{listing.as_of:%Y年%m月%d日}</p>",
        "<table>",
        "<thead><tr><th>序号</th><th>户主</th><th>家庭人口</th><th>救助类别</th>"
        "<th>月救助金额（元）</th></tr></thead>",
        "<tbody>",
    ]
    for i, row in enumerate(listing.rows, start=1):
        lines.append(
            f"<tr><td>{i}</td><td>{escape(row.masked_name)}</td><td>{row.household_size}</td>"
            f"<td>{PROGRAMME_SHORT_NAMES_ZH[row.programme]}</td><td>{row.monthly_amount}</td></tr>"
        )
    lines += [
        "</tbody></table>",
        f"<p>共{len(listing.rows)}户，月救助金额合计{listing.total}元。</p>",
        "<p>如有异议，请向乡镇（街道）或县级民政部门反映，"
        f"监督举报电话：{escape(listing.hotline)}。</p>",
        "</body></html>",
    ]
    return "\n".join(lines)
