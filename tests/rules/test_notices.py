"""Notices: HTML from templates, the discriminated union, and PDF with an embedded CJK font."""

import re
from datetime import date
from decimal import Decimal

import pytest

from jiuzhu.notices_pdf import font_path, render_notice_pdf
from rules.household import CareTier
from rules.id_number import make_id_number
from rules.notices import (
    NOTICE_ADAPTER,
    ApprovalNotice,
    EdgeRecognitionNotice,
    MissingDocumentsNotice,
    Notice,
    PublicityList,
    PublicityRow,
    ReductionNotice,
    RefusalNotice,
    SuspensionNotice,
    TerminationNotice,
    notice_title,
    render_notice_body_html,
    render_notice_html,
)
from rules.periods import months
from rules.programmes import Programme
from rules.reasons import ReasonCode, reason

ISSUED = date(2026, 3, 5)
LETTER = {
    "case_id": "419901-2026-000123",
    "authority": "演示县民政局",
    "issued_on": ISSUED,
    "applicant_name": "张小明",
}
APPEAL = {"review_authority": "演示县人民政府", "court": "演示县人民法院"}
INCOME = reason(
    ReasonCode.INCOME_NOT_BELOW_STANDARD, "家庭月人均收入800.00元不低于当地低保标准700.00元"
)
ID_A = make_id_number("419901", date(1960, 5, 1), "123")
ID_B = make_id_number("419901", date(1985, 11, 30), "456")

NOTICES: dict[str, Notice] = {
    "missing_documents": MissingDocumentsNotice(
        **LETTER,
        programme=Programme.DIBAO,
        township="城关镇人民政府",
        received_on=date(2026, 3, 2),
        missing_documents=["户口簿复印件", "家庭成员收入证明", "残疾人证"],
        submit_by=date(2026, 3, 20),
        contact="0391-1234567",
    ),
    "approval": ApprovalNotice(
        **LETTER,
        programme=Programme.TEKUN,
        monthly_amount=Decimal("1415"),
        members_covered=1,
        start_month=date(2026, 4, 1),
        decided_on=date(2026, 3, 20),
        policy_basis="《特困人员认定办法》第十六条",
        policy_version_id="CN@2021-07-01+41@2025-01-01+419901@2026-01-01",
        care_tier=CareTier.FULL_LOSS,
        review_period=months(12),
    ),
    "refusal": RefusalNotice(
        **LETTER,
        **APPEAL,
        programme=Programme.DIBAO,
        applied_on=date(2026, 2, 2),
        decided_on=date(2026, 3, 4),
        reasons=[INCOME],
    ),
    "reduction": ReductionNotice(
        **LETTER,
        **APPEAL,
        programme=Programme.DIBAO,
        previous_amount=Decimal("850"),
        new_amount=Decimal("450"),
        effective_month=date(2026, 5, 1),
        reasons=[reason(ReasonCode.INCOME_BELOW_STANDARD, "家庭月人均收入提高至400.00元")],
    ),
    "suspension": SuspensionNotice(
        **LETTER,
        **APPEAL,
        programme=Programme.DIBAO,
        effective_month=date(2026, 5, 1),
        reasons=[reason(ReasonCode.ASSETS_OVER_LIMIT, "家庭人均金融资产超过规定")],
    ),
    "termination": TerminationNotice(
        **LETTER,
        **APPEAL,
        programme=Programme.TEKUN,
        effective_month=date(2026, 6, 1),
        reasons=[reason(ReasonCode.HAS_ABLE_SUPPORTER, "有具备履行能力的法定义务人")],
        withdrawal_until=date(2026, 11, 1),
        referral="如符合条件，可申请最低生活保障或临时救助。",
    ),
    "edge_recognition": EdgeRecognitionNotice(
        **LETTER,
        refused_programme=Programme.DIBAO,
        offered_programme=Programme.DIBAO_EDGE,
        reply_by=date(2026, 3, 15),
    ),
    "publicity": PublicityList(
        case_id="GS-419901001-2026-03",
        authority="城关镇人民政府",
        issued_on=date(2026, 3, 1),
        programme=Programme.DIBAO,
        village="东街社区",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 8),
        rows=[
            PublicityRow(
                name="张小明", id_number=ID_A, household_size=3, monthly_amount=Decimal("850")
            ),
            PublicityRow(
                name="欧阳娜娜", id_number=ID_B, household_size=1, monthly_amount=Decimal("550")
            ),
        ],
        objection_channel="城关镇人民政府社会救助办公室（电话0391-1234567）",
    ),
}


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_every_notice_renders_a_complete_document(kind: str) -> None:
    notice = NOTICES[kind]
    assert notice.kind == kind
    html = render_notice_html(notice)
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert f"<title>{notice_title(notice)}</title>" in html
    assert notice.authority in html
    assert notice.case_id not in html  # an internal reference, never printed
    assert "2026年3月" in html
    assert render_notice_body_html(notice) in html


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_notices_round_trip_through_the_union(kind: str) -> None:
    notice = NOTICES[kind]
    parsed = NOTICE_ADAPTER.validate_json(NOTICE_ADAPTER.dump_json(notice))
    assert parsed == notice
    assert type(parsed) is type(notice)


@pytest.mark.parametrize("kind", ["refusal", "reduction", "suspension", "termination"])
def test_adverse_decisions_state_reasons_and_appeal_rights(kind: str) -> None:
    html = render_notice_html(NOTICES[kind])
    assert "60日内向演示县人民政府申请行政复议" in html
    assert "6个月内向演示县人民法院提起行政诉讼" in html
    assert html.count("《中华人民共和国行政复议法》第二十条") == 1
    assert html.count("《中华人民共和国行政诉讼法》第四十六条") == 1
    assert "理由如下" in html
    assert "依据：" in html


def test_refusal_cites_the_basis_of_each_reason() -> None:
    html = render_notice_html(NOTICES["refusal"])
    assert "不予确认最低生活保障通知书" in html
    assert INCOME.text_zh in html
    assert "《最低生活保障审核确认办法》（民发〔2021〕57号）第三条、第十三条" in html


def test_missing_documents_lists_everything_once() -> None:
    html = render_notice_html(NOTICES["missing_documents"])
    for document in ["户口簿复印件", "家庭成员收入证明", "残疾人证"]:
        assert html.count(document) == 1
    assert "一次性告知" in html
    assert "2026年3月20日前补齐" in html


def test_approval_states_amount_start_month_and_version() -> None:
    html = render_notice_html(NOTICES["approval"])
    assert "特困人员救助供养审核确认通知书" in html
    assert "自2026年4月起" in html
    assert "每月1,415.00元" in html
    assert "完全丧失生活自理能力" in html
    assert "CN@2021-07-01+41@2025-01-01+419901@2026-01-01" not in html  # never printed
    assert "《特困人员认定办法》（民发〔2021〕43号）第十六条、第二十条" in html
    assert "每12个月" in html


def test_reduction_and_termination_details() -> None:
    assert "由每月850.00元调整为每月450.00元" in render_notice_html(NOTICES["reduction"])
    termination = render_notice_html(NOTICES["termination"])
    assert "终止特困人员救助供养通知书" in termination
    assert "继续发放至2026年11月" in termination
    assert "临时救助" in termination


def test_edge_recognition_within_three_working_days() -> None:
    html = render_notice_html(NOTICES["edge_recognition"])
    assert "最低生活保障边缘家庭认定告知书" in html
    assert "3个工作日内予以认定" in html
    assert "医疗救助" in html


def test_publicity_masks_names_and_id_numbers() -> None:
    html = render_notice_html(NOTICES["publicity"])
    assert "张*明" in html and "欧**娜" in html
    assert "张小明" not in html and "欧阳娜娜" not in html
    assert ID_A not in html and ID_B not in html
    assert f"{ID_A[:4]}**********{ID_A[-4:]}" in html
    assert "公示期：2026年3月1日至2026年3月8日" in html
    assert "850.00元" in html
    assert "0391-1234567" in html and "12345" in html


def test_values_are_escaped() -> None:
    notice = NOTICES["refusal"].model_copy(update={"applicant_name": "<script>alert(1)</script>"})
    html = render_notice_html(notice)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        NOTICE_ADAPTER.validate_python({"kind": "praise", **LETTER})


@pytest.mark.parametrize("kind", ["refusal", "publicity"])
def test_pdf_embeds_the_cjk_font(kind: str) -> None:
    pdf = render_notice_pdf(NOTICES[kind])
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/FontFile" in pdf
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSerifSC", pdf)


def test_font_comes_from_the_installed_package() -> None:
    path = font_path()
    assert path.is_file()
    assert path.suffix == ".otf"
    assert path.stat().st_size > 1_000_000
