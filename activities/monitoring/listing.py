"""The village's long-term public listing (长期公示) from the entitlement read model: rendered at
request time from ``entitlement_account`` (so a case that starts, changes or ends shows at once)
and ``case_record`` (the head's name; the payee's until the case's row is written), as HTML and
as an A4 PDF with the embedded CJK font (``jiuzhu/notices_pdf.py``). Only 低保 and 特困
households being paid this month are listed; the household size is the members whose shares
are paid; the content is ``rules/listing.py``'s and nothing else."""

from datetime import date

from fpdf import FPDF
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_payments import EntitlementAccount
from jiuzhu.notices_pdf import FONT_FAMILY, font_path
from rules.listing import PublicListing, listing_rows
from rules.programmes import PROGRAMME_SHORT_NAMES_ZH
from workflows.entitlements.contract import PAYING_STATUSES


def village_listing(
    session: Session, village_code: str, today: date, authority: str, hotline: str
) -> PublicListing:
    """The households of the village paid 低保/特困 this month: active or in withdrawal, not
    past their last payable month, started by this month."""
    month = today.year * 12 + today.month - 1
    rows = session.exec(
        select(
            func.coalesce(col(CaseRecord.applicant_name), col(EntitlementAccount.payee_name)),
            col(EntitlementAccount.members_paid),
            col(EntitlementAccount.programme),
            col(EntitlementAccount.payable_amount),
        )
        .outerjoin(CaseRecord, col(CaseRecord.case_id) == col(EntitlementAccount.case_id))
        .where(
            EntitlementAccount.area_code == village_code,
            col(EntitlementAccount.programme).in_(("dibao", "tekun")),
            col(EntitlementAccount.status).in_([s.value for s in PAYING_STATUSES]),
            EntitlementAccount.start_month <= month,
            or_(
                col(EntitlementAccount.end_month).is_(None),
                col(EntitlementAccount.end_month) >= month,
            ),
            col(EntitlementAccount.payable_amount) > 0,
        )
    ).all()
    return PublicListing(
        village_code=village_code,
        authority=authority,
        as_of=today,
        rows=listing_rows([(n, size, p, amount) for n, size, p, amount in rows]),
        hotline=hotline,
    )


def render_listing_pdf(listing: PublicListing) -> bytes:
    """An A4 PDF of the listing for the notice board (CJK font embedded)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(listing.title)
    pdf.set_author(listing.authority)
    pdf.set_creator("Jiuzhu")
    pdf.set_lang("zh-CN")
    for style in ("", "B", "I", "BI"):
        pdf.add_font(FONT_FAMILY, style, str(font_path()))
    pdf.set_margins(left=20, top=20, right=20)
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, size=18)
    pdf.cell(0, 12, listing.title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font(FONT_FAMILY, size=11)
    pdf.cell(
        0,
        8,
        f"公示单位：{listing.authority}　公示日期：{listing.as_of:%Y年%m月%d日}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    with pdf.table(col_widths=(12, 30, 24, 34, 40), text_align="CENTER") as table:
        table.row(("序号", "户主", "家庭人口", "救助类别", "月救助金额（元）"))
        for i, row in enumerate(listing.rows, start=1):
            table.row(
                (
                    str(i),
                    row.masked_name,
                    str(row.household_size),
                    PROGRAMME_SHORT_NAMES_ZH[row.programme],
                    str(row.monthly_amount),
                )
            )
    pdf.ln(4)
    pdf.multi_cell(
        0,
        7,
        f"共{len(listing.rows)}户，月救助金额合计{listing.total}元。如有异议，请向乡镇（街道）"
        f"或县级民政部门反映，监督举报电话：{listing.hotline}。",
    )
    return bytes(pdf.output())
