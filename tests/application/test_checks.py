"""The step checks and procedure rules of an application, without a server: each refused step
raises the domain refusal (``jiuzhu.refusals``) with its kind and, for bad data, the field."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from activities.applications.checks import RelativeMatch
from activities.applications.notices import NoticeRef
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.policy_store import file_layers
from jiuzhu.refusals import RefusalKind, refusal_of
from rules.household import Household, Hukou, Member, Relation
from rules.policy import Policy, resolve_policy
from rules.programmes import Programme
from workflows.applications.checks import StepChecks
from workflows.applications.contract import ApplicantMember, ApplicationStatus
from workflows.applications.models import (
    AcceptInput,
    ApplicationState,
    DecisionInput,
    DecisionOutcome,
    DeliveryInput,
    EdgeConsentInput,
    InvestigationInput,
    InvestigationMethod,
    MissingDocumentsInput,
    MissingDocumentsRecord,
    OpinionInput,
    Recommendation,
    WithdrawInput,
)
from workflows.applications.rules import (
    Level,
    deadline_spec,
    decider_level,
    first_of_next_month,
    township_government,
)

ROOT = Path(__file__).resolve().parents[2]
AREA = "419901001001"
TODAY = date(2026, 6, 10)
APPLICANT_ID = "41990119700517001X"
TOWNSHIP = Actor(officer_id="t", name="王经办", role=Role.TOWNSHIP_OFFICER, area_code="419901001")
OTHER_TOWNSHIP = Actor(
    officer_id="t2", name="赵经办", role=Role.TOWNSHIP_OFFICER, area_code="419901002"
)
VILLAGE = Actor(officer_id="v", name="李协理", role=Role.VILLAGE_ASSISTANT, area_code=AREA)
COUNTY = Actor(officer_id="c", name="陈科长", role=Role.COUNTY_OFFICER, area_code="419901")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return resolve_policy(file_layers(ROOT / "policies"), AREA, TODAY)


def case(**changes: Any) -> ApplicationState:
    state = ApplicationState(
        application_id="A1",
        programme=Programme.DIBAO,
        area_code=AREA,
        area=AreaRef.of(AREA),
        household_id="H1",
        members=[
            ApplicantMember(name="张建明", id_number=APPLICANT_ID, relation=Relation.APPLICANT)
        ],
        submitted_by=TOWNSHIP,
        submitted_at=datetime(2026, 6, 1, 2, tzinfo=UTC),
        applied_on=date(2026, 6, 1),
    )
    return state.model_copy(update=changes)


def refused(excinfo: pytest.ExceptionInfo[ApplicationError]) -> tuple[RefusalKind, str | None]:
    refusal = refusal_of(excinfo.value)
    assert refusal is not None
    return refusal.kind, refusal.field


def checks(state: ApplicationState, policy: Policy | None = None) -> StepChecks:
    return StepChecks(state=state, policy=policy, today=TODAY)


def test_area_resolved_once_and_old_payloads_default_it() -> None:
    s = case()
    assert s.area == AreaRef(code=AREA, township="419901001", county="419901")
    old = s.model_dump(mode="json")
    del old["area"]
    assert ApplicationState.model_validate(old).area == s.area


def test_accept_roles_area_state_and_dates() -> None:
    c = checks(case())
    assert c.accept(AcceptInput(actor=TOWNSHIP)) == TODAY
    with pytest.raises(ApplicationError) as e:
        c.accept(AcceptInput(actor=VILLAGE))
    assert refused(e) == (RefusalKind.FORBIDDEN, None)
    with pytest.raises(ApplicationError) as e:
        c.accept(AcceptInput(actor=OTHER_TOWNSHIP))
    assert refused(e) == (RefusalKind.FORBIDDEN, None)
    with pytest.raises(ApplicationError) as e:
        c.accept(AcceptInput(actor=TOWNSHIP, accepted_on=date(2026, 5, 31)))
    assert refused(e) == (RefusalKind.INVALID_INPUT, "accepted_on")
    with pytest.raises(ApplicationError) as e:
        c.accept(AcceptInput(actor=TOWNSHIP, accepted_on=TODAY + timedelta(days=1)))
    assert refused(e) == (RefusalKind.INVALID_INPUT, "accepted_on")
    waiting = case(status=ApplicationStatus.DOCUMENTS_REQUESTED)
    with pytest.raises(ApplicationError) as e:
        checks(waiting).accept(AcceptInput(actor=TOWNSHIP))
    assert refused(e) == (RefusalKind.WRONG_STATE, None)


def test_missing_documents_once_and_due_after_today() -> None:
    c = checks(case())
    with pytest.raises(ApplicationError) as e:
        c.request_documents(MissingDocumentsInput(actor=TOWNSHIP, missing=["x"], submit_by=TODAY))
    assert refused(e) == (RefusalKind.INVALID_INPUT, "submit_by")
    notice = MissingDocumentsRecord(
        at=datetime(2026, 6, 2, tzinfo=UTC),
        actor=TOWNSHIP,
        on=date(2026, 6, 2),
        missing=["x"],
        submit_by=date(2026, 7, 2),
        notice_id="A1-N01",
    )
    with pytest.raises(ApplicationError) as e:
        checks(case(missing_documents=notice)).request_documents(
            MissingDocumentsInput(actor=TOWNSHIP, missing=["y"])
        )
    assert refused(e) == (RefusalKind.WRONG_STATE, None)


def investigation(**changes: Any) -> InvestigationInput:
    household = Household(
        members=[
            Member(
                name="张建明",
                id_number=APPLICANT_ID,
                relation=Relation.APPLICANT,
                birth_date=date(1970, 5, 17),
                hukou=Hukou.RURAL,
            )
        ]
    )
    body: dict[str, Any] = {
        "actor": TOWNSHIP,
        "investigators": ["甲", "乙"],
        "signed_by_household": True,
        "findings_zh": "与申报一致",
        "household": household,
        **changes,
    }
    return InvestigationInput(**body)


def test_investigation_form_and_household() -> None:
    accepted = case(status=ApplicationStatus.ACCEPTED, accepted_on=date(2026, 6, 2))
    c = checks(accepted)
    assert c.investigation(investigation()) == TODAY
    for changes, field in (
        ({"signed_by_household": False}, "signed_by_household"),
        ({"method": InvestigationMethod.REMOTE}, "remote_reason_zh"),
        ({"household": None}, "household"),
        ({"visited_on": date(2026, 6, 1)}, "visited_on"),
    ):
        with pytest.raises(ApplicationError) as e:
            c.investigation(investigation(**changes))
        assert refused(e) == (RefusalKind.INVALID_INPUT, field), changes
    temporary = accepted.model_copy(update={"programme": Programme.TEMPORARY})
    assert checks(temporary).investigation(investigation(household=None)) == TODAY
    with pytest.raises(ApplicationError) as e:
        checks(case()).investigation(investigation())
    assert refused(e) == (RefusalKind.WRONG_STATE, None)


def test_opinion_waits_for_complete_verification() -> None:
    s = case(status=ApplicationStatus.AWAITING_OPINION, accepted_on=date(2026, 6, 2))
    with pytest.raises(ApplicationError) as e:
        checks(s).opinion(OpinionInput(actor=TOWNSHIP, recommendation=Recommendation.APPROVE))
    assert refused(e) == (RefusalKind.WRONG_STATE, None)
    temporary = s.model_copy(update={"programme": Programme.TEMPORARY})
    with pytest.raises(ApplicationError) as e:
        checks(temporary).opinion(
            OpinionInput(actor=TOWNSHIP, recommendation=Recommendation.APPROVE)
        )
    assert refused(e) == (RefusalKind.INVALID_INPUT, "proposed_amount")


def test_decision_needs_policy_and_county_visit_for_relatives(policy: Policy) -> None:
    decision = DecisionInput(actor=COUNTY, outcome=DecisionOutcome.APPROVE)
    waiting = case(status=ApplicationStatus.AWAITING_DECISION)
    with pytest.raises(ApplicationError) as e:
        checks(waiting).decide(decision)
    assert refused(e) == (RefusalKind.WRONG_STATE, None)  # not accepted: no policy yet
    relative = RelativeMatch(
        id_number=APPLICANT_ID,
        member_name="张建明",
        staff_name="李村干",
        staff_role="village_cadre",
        relation_zh="兄弟",
    )
    flagged = waiting.model_copy(update={"relatives_matches": [relative]})
    with pytest.raises(ApplicationError) as e:
        checks(flagged, policy).decide(decision)
    kind, _ = refused(e)
    assert kind is RefusalKind.WRONG_STATE and "近亲属" in str(e.value)
    with pytest.raises(ApplicationError) as e:
        checks(waiting, policy).decide(decision.model_copy(update={"actor": TOWNSHIP}))
    assert refused(e) == (RefusalKind.FORBIDDEN, None)


def test_delivery_edge_consent_and_withdrawal() -> None:
    s = case(status=ApplicationStatus.REFUSED)
    with pytest.raises(ApplicationError) as e:
        checks(s).delivery(DeliveryInput(actor=TOWNSHIP, notice_id="X", recipient_name="张"))
    assert refused(e) == (RefusalKind.INVALID_INPUT, "notice_id")
    notice = NoticeRef(
        notice_id="A1-N01",
        kind="refusal",
        title="不予确认通知书",
        issued_at=datetime(2026, 6, 9, 20, tzinfo=UTC),  # 2026-06-10 in Beijing
        delivered_on=TODAY,
    )
    with pytest.raises(ApplicationError) as e:
        checks(s.model_copy(update={"notices": [notice]})).delivery(
            DeliveryInput(actor=TOWNSHIP, notice_id="A1-N01", recipient_name="张")
        )
    assert refused(e) == (RefusalKind.WRONG_STATE, None)
    with pytest.raises(ApplicationError) as e:
        checks(s).edge_consent(EdgeConsentInput(actor=VILLAGE, consent=True))
    assert refused(e) == (RefusalKind.WRONG_STATE, None)
    with pytest.raises(ApplicationError) as e:
        checks(s).withdraw(WithdrawInput(actor=VILLAGE, reason_zh="撤回"))
    assert refused(e) == (RefusalKind.WRONG_STATE, None)
    assert checks(case()).withdraw(WithdrawInput(actor=VILLAGE, reason_zh="撤回")) == TODAY


def test_rules_deadline_levels_decider_and_dates(policy: Policy) -> None:
    area = AreaRef.of(AREA)
    spec = deadline_spec(
        name="x",
        label_zh="x",
        start=TODAY,
        period=policy.investigation_start,
        level=Level.TOWNSHIP,
        area=area,
        policy=policy,
        basis="",
    )
    assert (spec.responsible_role, spec.responsible_area) == (Role.TOWNSHIP_OFFICER, "419901001")
    assert (spec.escalation_role, spec.escalation_area) == (Role.COUNTY_OFFICER, "419901")
    county = deadline_spec(
        name="y",
        label_zh="y",
        start=TODAY,
        period=policy.investigation_start,
        level=Level.COUNTY,
        area=area,
        policy=policy,
        basis="",
    )
    assert (county.responsible_role, county.escalation_role) == (Role.COUNTY_OFFICER, Role.AUDITOR)
    assert decider_level(policy, Programme.DIBAO, None) is Level.COUNTY
    limit = policy.temporary_township_approval_limit
    assert decider_level(policy, Programme.TEMPORARY, limit) is Level.TOWNSHIP
    assert decider_level(policy, Programme.TEMPORARY, limit + Decimal("0.01")) is Level.COUNTY
    assert first_of_next_month(date(2026, 12, 31)) == date(2027, 1, 1)
    assert township_government(area).endswith("人民政府")
