"""The pure parts of monitoring and listing, without a server: the population's categories, the
warning rules under a policy, the home visit's checks, the masked listing; and the read-model
hook that feeds the population (``record_step`` → ``observe``) on the test database."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from activities.monitoring.population import backfill, category_of, exit_cutoff
from activities.records import RecordActivities
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_monitoring import MonitoringSubject
from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep
from jiuzhu.refusals import refusal_of
from rules.listing import PublicListing, listing_rows, mask_name, render_listing_html
from rules.periods import months
from rules.policy import Policy, resolve_policy
from rules.programmes import Programme
from tests.factories import id_number
from workflows.monitoring.checks import check_visit
from workflows.monitoring.contract import (
    DataKind,
    MonitoringCategory,
    VisitOutcome,
    WarningStatus,
    warning_id_for,
)
from workflows.monitoring.models import RecordVisit, WarningState
from workflows.monitoring.rules import warning_rule

TOWNSHIP = Actor(officer_id="t", name="乡镇", role=Role.TOWNSHIP_OFFICER, area_code="419901001")


def policy() -> Policy:
    from jiuzhu.policy_store import file_layers
    from tests.conftest import ROOT

    return resolve_policy(file_layers(ROOT / "policies"), "419901001001", date(2026, 11, 29))


def test_masked_names() -> None:
    assert mask_name("张建明") == "张*明"
    assert mask_name("王芳") == "王*"
    assert mask_name("欧阳秀芳") == "欧**芳"
    assert mask_name("李") == "*"


def test_categories_of_cases() -> None:
    assert category_of("entitlement", "dibao", "active") is MonitoringCategory.DIBAO
    assert category_of("entitlement", "tekun", "terminating") is MonitoringCategory.TEKUN
    assert category_of("entitlement", "dibao", "ended") is MonitoringCategory.EXITED
    assert category_of("application", "dibao", "refused") is MonitoringCategory.REFUSED
    assert category_of("application", "dibao_edge", "approved") is MonitoringCategory.DIBAO_EDGE
    assert category_of("application", "dibao", "approved") is None  # the entitlement counts
    assert category_of("application", "temporary", "refused") is None
    assert category_of("application", "dibao", "publicity") is None
    assert category_of("temporary", "temporary", "aided") is None
    assert exit_cutoff(date(2026, 11, 29), months(24)) == date(2024, 11, 29)


def test_warning_rules_follow_the_policy() -> None:
    p = policy()  # rural 低保标准 550.00 in the demo county
    assert p.dibao_standard_rural == Decimal("550.00")
    dibao, refused = MonitoringCategory.DIBAO, MonitoringCategory.REFUSED
    assert warning_rule(DataKind.INCOME, Decimal("550.00"), dibao, p)
    assert warning_rule(DataKind.INCOME, Decimal("549.99"), dibao, p) is None
    assert warning_rule(DataKind.INCOME, Decimal("300.00"), refused, p)
    assert warning_rule(DataKind.INCOME, Decimal("900.00"), refused, p) is None
    assert warning_rule(DataKind.HOSPITALISATION, Decimal("10000.00"), refused, p)
    assert warning_rule(DataKind.HOSPITALISATION, Decimal("9999.99"), refused, p) is None
    assert warning_rule(DataKind.VEHICLE, Decimal("1.00"), dibao, p)
    assert warning_rule(DataKind.VEHICLE, Decimal("80000.00"), refused, p) is None
    assert warning_rule(DataKind.BUSINESS, None, dibao, p)
    assert warning_rule(DataKind.DEATH, None, refused, p)
    assert warning_rule(DataKind.DISABILITY, None, MonitoringCategory.EXITED, p)
    limit = p.dibao_standard_rural * p.financial_assets_limit_months
    assert warning_rule(DataKind.ASSETS, limit + 1, dibao, p)
    assert warning_rule(DataKind.ASSETS, limit, dibao, p) is None
    looser = p.model_copy(update={"warning_medical_expense": Decimal("20000.00")})
    assert warning_rule(DataKind.HOSPITALISATION, Decimal("15000.00"), refused, looser) is None
    a = warning_id_for("419901197005170011", "income", date(2026, 11, 1), "419901001001")
    assert a == warning_id_for("419901197005170011", "income", date(2026, 11, 1), "419901")
    assert a != warning_id_for("419901197005170011", "income", date(2026, 12, 1), "419901")


def state(**over: object) -> WarningState:
    base: dict[str, object] = {
        "warning_id": "W1",
        "import_id": "M1",
        "kind": DataKind.INCOME,
        "rule_zh": "r",
        "observed_on": date(2026, 11, 1),
        "person_id_number": "x",
        "person_name": "张建明",
        "household_id": "H1",
        "household_size": 2,
        "area": AreaRef.of("419901001001"),
        "category": MonitoringCategory.REFUSED,
        "programme": "dibao",
        "source_case_id": "A1",
        "raised_by": TOWNSHIP,
        "raised_on": date(2026, 11, 20),
    }
    return WarningState.model_validate({**base, **over})


def visit(**over: object) -> RecordVisit:
    base: dict[str, object] = {
        "actor": TOWNSHIP,
        "visited_on": date(2026, 11, 25),
        "visitors": ["王调查", "李调查"],
        "finding_zh": "家中无人就业",
        "outcome": VisitOutcome.CLOSED,
        "reason_zh": "核实收入为一次性劳务报酬",
    }
    return RecordVisit.model_validate({**base, **over})


@pytest.mark.parametrize(
    ("over", "st", "field", "kind"),
    [
        (
            {"actor": TOWNSHIP.model_copy(update={"role": Role.COUNTY_OFFICER})},
            {},
            None,
            "Forbidden",
        ),
        ({"actor": TOWNSHIP.model_copy(update={"area_code": "419901002"})}, {}, None, "Forbidden"),
        ({}, {"status": WarningStatus.CLOSED}, None, "WrongState"),
        ({"visited_on": date(2026, 11, 30)}, {}, "visited_on", "InvalidInput"),
        ({"visited_on": date(2026, 11, 19)}, {}, "visited_on", "InvalidInput"),
        ({"reason_zh": " "}, {}, "reason_zh", "InvalidInput"),
        ({"outcome": VisitOutcome.CHANGE_INVESTIGATION}, {}, "outcome", "InvalidInput"),
        ({"outcome": VisitOutcome.APPLICATION_OFFERED}, {}, "programme", "InvalidInput"),
        (
            {"outcome": VisitOutcome.APPLICATION_OFFERED, "programme": Programme.TEMPORARY},
            {},
            "programme",
            "InvalidInput",
        ),
        (
            {"outcome": VisitOutcome.APPLICATION_OFFERED, "programme": Programme.DIBAO},
            {"category": MonitoringCategory.DIBAO, "entitlement_workflow_id": "e"},
            "programme",
            "InvalidInput",
        ),
    ],
)
def test_visit_refusals(
    over: dict[str, object], st: dict[str, object], field: str | None, kind: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        check_visit(state(**st), visit(**over), date(2026, 11, 29))
    refusal = refusal_of(caught.value)
    assert refusal is not None and refusal.kind.value == kind and refusal.field == field


def test_visit_accepted() -> None:
    check_visit(state(), visit(), date(2026, 11, 29))
    check_visit(
        state(category=MonitoringCategory.DIBAO, entitlement_workflow_id="e"),
        visit(outcome=VisitOutcome.CHANGE_INVESTIGATION, reason_zh=""),
        date(2026, 11, 29),
    )


def test_listing_shows_masked_rows_only() -> None:
    rows = listing_rows(
        [("张建明", 3, "dibao", Decimal("1200")), ("王芳", 1, "tekun", Decimal("910.5"))]
    )
    listing = PublicListing(
        village_code="419901001001",
        authority="419901001乡镇人民政府（街道办事处）",
        as_of=date(2026, 11, 29),
        rows=rows,
        hotline="12345",
    )
    html = render_listing_html(listing)
    assert "张*明" in html and "王*" in html and "张建明" not in html
    assert "1200.00" in html and "910.50" in html and "共2户" in html
    assert listing.total == Decimal("2110.50")


def snapshot(
    case_id: str, kind: str, programme: str, status: str, rev: int, **detail: object
) -> CaseSnapshot:
    return CaseSnapshot(
        case_id=case_id,
        workflow_id=f"wf-{case_id}",
        case_kind=kind,
        programme=programme,
        status=status,
        area_code="419901001003",
        household_id=f"H{case_id}",
        applicant_name="赵小兰",
        applicant_id_number=id_number(date(1980, 1, 2)),
        household_size=2,
        revision=rev,
        detail=dict(detail),
    )


def audit_line(case_id: str, seq: int, action: str, note: str) -> AuditRecord:
    return AuditRecord(
        dedupe_key=f"wf-{case_id}:{seq}:{action}",
        at=datetime.now(UTC) - timedelta(minutes=10 - seq),
        case_id=case_id,
        workflow_id=f"wf-{case_id}",
        action=action,
        detail={"note_zh": note},
    )


def test_read_model_writes_feed_the_population(engine: Engine) -> None:
    """The kernel's ``record_step`` (every case publisher's write) puts refusals, recognitions
    and exits in the population, keeps the reason and the date, and ignores older revisions."""
    records = RecordActivities(engine)
    tag = id_number(date(1981, 2, 3))[-6:]
    refused, edge, ent = f"AR{tag}", f"AE{tag}", f"E{tag}"
    records.record_step(
        RecordStep(
            snapshot=snapshot(refused, "application", "dibao", "publicity", 3),
            audit=[audit_line(refused, 3, "initial_opinion", "初审")],
        )
    )
    with Session(engine) as s:
        assert s.get(MonitoringSubject, refused) is None  # not (yet) a population case
    records.record_step(
        RecordStep(
            snapshot=snapshot(
                refused, "application", "dibao", "refused", 4, decided_on="2026-11-20"
            ),
            audit=[audit_line(refused, 4, "decision", "家庭人均收入高于当地低保标准")],
        )
    )
    records.record_step(
        RecordStep(
            snapshot=snapshot(
                edge, "application", "dibao_edge", "approved", 2, decided_on="2026-11-21"
            ),
            audit=[audit_line(edge, 2, "decision", "认定为低保边缘家庭")],
        )
    )
    records.record_step(
        RecordStep(snapshot=snapshot(ent, "entitlement", "dibao", "active", 1), audit=[])
    )
    records.record_step(
        RecordStep(
            snapshot=snapshot(ent, "entitlement", "dibao", "ended", 5),
            audit=[audit_line(ent, 5, "ended", "救助于2026年11月发放完毕后终止")],
        )
    )
    records.record_step(  # a late, older write changes nothing
        RecordStep(snapshot=snapshot(ent, "entitlement", "dibao", "active", 4), audit=[])
    )
    with Session(engine) as s:
        r = s.get(MonitoringSubject, refused)
        assert r is not None and r.category == "refused" and r.ended_on == date(2026, 11, 20)
        assert r.reason_zh is not None and "低保标准" in r.reason_zh
        e = s.get(MonitoringSubject, edge)
        assert e is not None and e.category == "dibao_edge" and e.since == date(2026, 11, 21)
        x = s.get(MonitoringSubject, ent)
        assert x is not None and x.category == "exited" and x.ended_on is not None
        assert x.reason_zh is not None and "终止" in x.reason_zh
        # The back-fill finds the same rows and changes nothing.
        assert backfill(s, "419901001003") >= 3
        s.commit()
        y = s.get(MonitoringSubject, ent)
        assert y is not None and y.category == "exited"
