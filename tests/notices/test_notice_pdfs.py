"""Every notice kind, built the way the cases build it (``workflows.applications.notices``,
``activities.entitlements.activities.build_notice``) and rendered to PDF, read back by text
extraction (pypdf): exactly its legal basis, the township's and county's names from the area
registry, no internal id, no line starting with closing punctuation, 〔2021〕 whole, the seal
area, the delivery receipt on decisions, and names with CJK Extension B characters printed in
full (王𡉃 U+21243, 𠮷 U+20BB7). A character no font has is refused, naming the field."""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from activities.applications.notices import render_pdf
from activities.entitlements.activities import build_notice
from activities.entitlements.models import NoticeReason, NoticeRequest
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.line_breaking import CLOSING
from jiuzhu.notices_pdf import MissingGlyphs, extension_font_path, render_notice_pdf
from jiuzhu.policy_store import file_layers
from rules.household import Relation
from rules.id_number import make_id_number
from rules.notices import NOTICE_ADAPTER, MissingDocumentsNotice, PublicityList, PublicityRow
from rules.policy import Policy, resolve_policy
from rules.programmes import Programme
from rules.reasons import ReasonCode
from workflows.applications import notices as build
from workflows.applications.contract import ApplicantMember
from workflows.applications.models import (
    ApplicationState,
    DecisionOutcome,
    DecisionRecord,
    RefusalReason,
)

ROOT = Path(__file__).resolve().parents[2]
AREA = "419901001001"  # 演示县城关镇东街社区
TODAY = date(2026, 6, 15)
APPLICATION_ID = "A3F9C2B7D1E04A5"
POLICY_ID_MARK = "@"  # every policy version id has one (CN@2021-07-01+…)
RARE = "王𡉃"  # U+21243, CJK Extension B
RARE_2 = "𠮷田"  # U+20BB7
ID_NUMBER = make_id_number("419901", date(1960, 5, 1), "123")
COUNTY = Actor(officer_id="c", name="陈科长", role=Role.COUNTY_OFFICER, area_code="419901")

TOWNSHIP_NAME = "演示县城关镇人民政府"
COUNTY_BUREAU = "演示县民政局"
RELIEF = "《社会救助暂行办法》（国务院令第649号）"
DIBAO = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
TEKUN = "《特困人员认定办法》（民发〔2021〕43号）"
TEMPORARY = "《关于进一步加强和改进临时救助工作的意见》（民发〔2018〕23号）"
TEMPORARY_SC = "《国务院关于全面建立临时救助制度的通知》（国发〔2014〕47号）"
APPEAL = "《中华人民共和国行政复议法》第二十条；《中华人民共和国行政诉讼法》第四十六条"
HENAN = "豫政办〔2022〕103号"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return resolve_policy(file_layers(ROOT / "policies"), AREA, TODAY)


def state(programme: Programme, name: str = RARE) -> ApplicationState:
    return ApplicationState(
        application_id=APPLICATION_ID,
        programme=programme,
        area_code=AREA,
        area=AreaRef.of(AREA),
        household_id="H1",
        members=[ApplicantMember(name=name, id_number=ID_NUMBER, relation=Relation.APPLICANT)],
        submitted_by=COUNTY,
        submitted_at=datetime(2026, 6, 1, 2, tzinfo=UTC),
        applied_on=date(2026, 6, 1),
        requested_amount=Decimal("2000.00") if programme is Programme.TEMPORARY else None,
    )


def decision(outcome: DecisionOutcome, **changes: Any) -> DecisionRecord:
    values: dict[str, Any] = {
        "at": datetime(2026, 6, 12, 2, tzinfo=UTC),
        "actor": COUNTY,
        "on": date(2026, 6, 12),
        "outcome": outcome,
        "decided_by_level": "county",
        "file_received_on": date(2026, 6, 10),
        **changes,
    }
    return DecisionRecord(**values)


INCOME = RefusalReason(
    code=ReasonCode.INCOME_NOT_BELOW_STANDARD,
    text_zh="家庭月人均收入800.00元不低于当地低保标准700.00元",
    basis=f"{DIBAO}第三条、第十三条",
)


def entitlement(kind: str, programme: Programme, **changes: Any) -> NoticeRequest:
    values: dict[str, Any] = {
        "notice_id": "E-419901-000042-N03",
        "case_id": "E-419901-000042",
        "kind": kind,
        "area_code": AREA,
        "applicant_name": RARE_2,
        "programme": programme,
        "issued_on": date(2026, 6, 15),
        "effective_month": date(2026, 7, 1),
        "reasons": [NoticeReason(text_zh="连续三次无正当理由拒绝接受介绍的就业岗位")],
        "deliver_to_area": AREA,
        **changes,
    }
    return NoticeRequest(**values)


@dataclass(frozen=True)
class Case:
    """A notice as issued (kind and payload), the basis line it must print and what it must
    not cite."""

    build: Callable[[Policy], tuple[str, dict[str, Any]]]
    basis: str
    absent: tuple[str, ...]
    decision: bool
    names: tuple[str, ...]
    person: str = RARE


def _issued(notice: Any) -> tuple[str, dict[str, Any]]:
    return notice.kind, notice.model_dump(mode="json")


CASES: dict[str, Case] = {
    "missing_documents/dibao": Case(
        lambda p: _issued(
            build.missing_documents(
                state(Programme.DIBAO), date(2026, 6, 2), ["户口簿复印件"], date(2026, 7, 2), ""
            )
        ),
        f"{RELIEF}；{DIBAO}第十条",
        ("特困人员认定办法", "临时救助", "行政复议法"),
        decision=False,
        names=(TOWNSHIP_NAME,),
    ),
    "missing_documents/tekun": Case(
        lambda p: _issued(
            build.missing_documents(
                state(Programme.TEKUN), date(2026, 6, 2), ["残疾人证"], date(2026, 7, 2), ""
            )
        ),
        f"{RELIEF}；{TEKUN}",
        ("最低生活保障审核确认办法", "第十条", "临时救助", "行政复议法"),
        decision=False,
        names=(TOWNSHIP_NAME,),
    ),
    "approval/dibao": Case(
        lambda p: _issued(
            build.approval(
                state(Programme.DIBAO),
                p,
                decision(
                    DecisionOutcome.APPROVE,
                    amount=Decimal("1234.56"),
                    start_month=date(2026, 7, 1),
                ),
                can_work=True,
                size=3,
            )
        ),
        f"{RELIEF}；{DIBAO}第二十条、第三十一条",
        ("特困人员认定办法", "临时救助", "行政复议法", "行政诉讼法", "豫政办"),
        decision=True,
        names=(COUNTY_BUREAU, TOWNSHIP_NAME),
    ),
    "approval/tekun": Case(
        lambda p: _issued(
            build.approval(
                state(Programme.TEKUN),
                p,
                decision(
                    DecisionOutcome.APPROVE,
                    amount=Decimal("910.00"),
                    start_month=date(2026, 7, 1),
                    care_tier="full_loss",
                ),
                can_work=False,
                size=1,
            )
        ),
        f"{RELIEF}；{TEKUN}第十六条、第二十条",
        ("最低生活保障审核确认办法", "临时救助", "行政复议法"),
        decision=True,
        names=(COUNTY_BUREAU, TOWNSHIP_NAME),
    ),
    "refusal/dibao": Case(
        lambda p: _issued(
            build.refusal(
                state(Programme.DIBAO), p, decision(DecisionOutcome.REFUSE, reasons=[INCOME])
            )
        ),
        f"{RELIEF}；{DIBAO}第二十一条、第三十八条；{APPEAL}",
        ("特困人员认定办法", "临时救助"),
        decision=True,
        names=(COUNTY_BUREAU, "演示县人民政府", "演示县人民法院"),
    ),
    "temporary_refusal": Case(
        lambda p: _issued(
            build.refusal(
                state(Programme.TEMPORARY),
                p,
                decision(DecisionOutcome.REFUSE, reasons_zh=["同一事由已于2026年3月5日获得救助"]),
            )
        ),
        f"{RELIEF}；{TEMPORARY}；{TEMPORARY_SC}；{APPEAL}",
        ("最低生活保障审核确认办法", "特困人员认定办法"),
        decision=True,
        names=(COUNTY_BUREAU, "演示县人民政府", "演示县人民法院"),
    ),
    "review_terminated/dibao": Case(
        lambda p: _issued(
            build.review_terminated(
                state(Programme.DIBAO), p, date(2026, 6, 12), "拒绝签署授权核对声明", True
            )
        ),
        f"{RELIEF}；{DIBAO}第二十九条、第三十八条；{APPEAL}",
        ("特困人员认定办法", "临时救助"),
        decision=True,
        names=(COUNTY_BUREAU, "演示县人民政府"),
    ),
    "edge_recognition": Case(
        lambda p: _issued(
            build.edge_recognition(
                state(Programme.DIBAO),
                p,
                Programme.DIBAO_EDGE,
                date(2026, 6, 12),
                date(2026, 7, 12),
            )
        ),
        f"{HENAN}）二（二）3",
        ("特困人员认定办法", "行政复议法", "社会救助暂行办法"),
        decision=False,
        names=(COUNTY_BUREAU, TOWNSHIP_NAME),
    ),
    "publicity/dibao": Case(
        lambda p: _issued(
            build.publicity_list(
                state(Programme.DIBAO, name="王𡉃明"),
                p,
                date(2026, 6, 5),
                date(2026, 6, 12),
                Decimal("850.00"),
            )
        ),
        f"{RELIEF}；{DIBAO}第十九条",
        ("特困人员认定办法", "临时救助", "行政复议法"),
        decision=False,
        names=(TOWNSHIP_NAME, "东街社区"),
        person="王*明",  # masked on the list (低保办法 Art. 23–24)
    ),
    "reduction/dibao": Case(
        lambda p: _issued(
            build_notice(
                entitlement(
                    "reduction",
                    Programme.DIBAO,
                    previous_amount=Decimal("850.00"),
                    new_amount=Decimal("450.00"),
                )
            )
        ),
        f"{RELIEF}；{DIBAO}第三十二条、第三十八条；{APPEAL}",
        ("特困人员认定办法", "临时救助"),
        decision=True,
        names=(COUNTY_BUREAU, "演示县人民政府", "演示县人民法院"),
        person=RARE_2,
    ),
    "suspension/dibao": Case(
        lambda p: _issued(build_notice(entitlement("suspension", Programme.DIBAO))),
        f"{RELIEF}；{DIBAO}第三十二条、第三十八条；{APPEAL}",
        ("特困人员认定办法", "临时救助"),
        decision=True,
        names=(COUNTY_BUREAU, "演示县人民政府"),
        person=RARE_2,
    ),
    "termination/tekun": Case(
        lambda p: _issued(
            build_notice(
                entitlement(
                    "termination",
                    Programme.TEKUN,
                    reasons=[
                        NoticeReason(
                            code=ReasonCode.HAS_ABLE_SUPPORTER,
                            text_zh="有具备履行能力的法定义务人",
                        )
                    ],
                    referral="如符合条件，可申请最低生活保障或临时救助。",
                )
            )
        ),
        f"{RELIEF}；{TEKUN}第二十四条、第二十五条、第二十六条、第二十七条；{APPEAL}",
        ("最低生活保障审核确认办法",),
        decision=True,
        names=(COUNTY_BUREAU, "演示县人民政府"),
        person=RARE_2,
    ),
}

INTERNAL_IDS = (APPLICATION_ID, "E-419901-000042", "application-", "-N0")


def pdf_of(kind: str, payload: dict[str, Any]) -> bytes:
    if kind in ("review_terminated", "temporary_refusal"):
        return render_pdf(kind, payload)
    return render_notice_pdf(NOTICE_ADAPTER.validate_python(payload))


def pages_of(pdf: bytes) -> list[list[str]]:
    """The text lines of each page, without the separators pypdf puts between glyphs (a space
    or NUL, from the glyph positions)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        [
            line.replace(" ", "").replace("\x00", "")
            for line in (page.extract_text() or "").splitlines()
        ]
        for page in reader.pages
    ]


@pytest.fixture(scope="module")
def rendered(policy: Policy) -> dict[str, tuple[dict[str, Any], list[list[str]]]]:
    out = {}
    for name, case in CASES.items():
        kind, payload = case.build(policy)
        out[name] = (payload, pages_of(pdf_of(kind, payload)))
    return out


def test_the_extension_b_font_is_installed() -> None:
    assert extension_font_path() is not None, "install fonts-hanazono (README, Fonts)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_notice_is_fit_for_a_file(
    name: str, rendered: dict[str, tuple[dict[str, Any], list[list[str]]]]
) -> None:
    case = CASES[name]
    payload, pages = rendered[name]
    lines = [line for page in pages for line in page if line]
    text = "".join(lines)

    # Exactly the legal basis of its kind and programme, each document once.
    assert f"法律依据：{RELIEF}" in text or not case.basis.startswith(RELIEF)
    assert case.basis in text, text
    basis_line = text[text.index("法律依据：") :].split("。")[0]
    for absent in case.absent:
        assert absent not in basis_line, (absent, basis_line)
    for document in re.findall(r"《[^》]+》", basis_line):
        assert basis_line.count(document) == 1, (document, basis_line)
    assert "政策版本" not in text

    # Names from the area registry, never the generic placeholder.
    for authority in case.names:
        assert authority in text, (authority, text)
    assert "乡镇人民政府（街道办事处）" not in text

    # No internal id: no case, notice, workflow or policy version id.
    for internal in INTERNAL_IDS:
        assert internal not in text, internal
    assert POLICY_ID_MARK not in text
    assert payload["case_id"] not in text

    # 禁则: no line starts with closing punctuation; 〔yyyy〕 never split across lines.
    for line in lines:
        assert line[0] not in CLOSING, line
        assert not re.search(r"〔\d{0,3}$", line), line
    assert text.count("〔") == sum(len(re.findall(r"〔\d{4}〕", line)) for line in lines)

    # Seal area; the delivery receipt (送达回证) for decisions, on its own last page.
    assert "（盖章）" in text and "（盖章处）" in text
    receipt = "".join(pages[-1])
    if case.decision:
        assert len(pages) >= 2
        assert receipt.startswith("送达回证")
        for field in ("送达文书", "案由", "受送达人", "送达方式", "送达日期", "受送达人签名"):
            assert field in receipt, field
        assert case.person in receipt
        assert "送达回证" not in "".join(pages[0])
    else:
        assert "送达回证" not in text

    # Every character of the name is printed, Extension B included.
    assert case.person in text


def test_approval_prints_the_local_standard_document_not_the_version_id(
    rendered: dict[str, tuple[dict[str, Any], list[list[str]]]],
) -> None:
    payload, pages = rendered["approval/dibao"]
    text = "".join(line for page in pages for line in page)
    assert payload["policy_version_id"] and payload["policy_version_id"] not in text
    assert "保障标准依据：演示县人民政府关于调整2026年城乡最低生活保障标准的通知（演示）" in text
    assert "1,234.56元" in text
    assert f"请及时告知{TOWNSHIP_NAME}" in text


def test_a_document_number_is_printed_when_there_is_one() -> None:
    notice = MissingDocumentsNotice(
        case_id=APPLICATION_ID,
        authority=TOWNSHIP_NAME,
        issued_on=date(2026, 6, 2),
        document_number="城政救告〔2026〕7号",
        applicant_name=RARE,
        programme=Programme.DIBAO,
        township=TOWNSHIP_NAME,
        received_on=date(2026, 6, 1),
        missing_documents=["户口簿复印件"],
    )
    text = "".join("".join(page) for page in pages_of(render_notice_pdf(notice)))
    assert "城政救告〔2026〕7号" in text
    assert APPLICATION_ID not in text


def test_a_character_no_font_has_is_refused_naming_the_field() -> None:
    notice = PublicityList(
        case_id="GS-1",
        authority=TOWNSHIP_NAME,
        issued_on=date(2026, 6, 5),
        programme=Programme.DIBAO,
        village="东街社区",
        period_start=date(2026, 6, 5),
        period_end=date(2026, 6, 12),
        rows=[
            PublicityRow(
                name="张明", id_number=ID_NUMBER, household_size=1, monthly_amount=Decimal("1")
            ),
            PublicityRow(
                name="李\ue000", id_number=ID_NUMBER, household_size=1, monthly_amount=Decimal("1")
            ),
        ],
        objection_channel="城关镇社会救助窗口\U000e0100",
    )
    with pytest.raises(MissingGlyphs) as excinfo:
        render_notice_pdf(notice)
    assert excinfo.value.problems == [
        (("rows", 1, "name"), "\ue000"),
        (("objection_channel",), "\U000e0100"),
    ]
    assert "U+E000" in str(excinfo.value)
