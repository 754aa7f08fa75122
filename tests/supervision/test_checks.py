"""Supervision's pure rules without a server: the spot-check draw (both rates met on a month of
≥ 50 decisions, reproducible from seed and population, sensitive to the seed), the complaint
routing, and the checks of the human steps."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from tests.supervision.support import decision
from workflows.supervision.checks import (
    check_findings,
    check_follow_up,
    check_reply,
    check_spot_check,
    route,
)
from workflows.supervision.contract import (
    CheckOutcome,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    DeliveryChannel,
    ResponsibleLevel,
)
from workflows.supervision.models import (
    ComplaintFindings,
    ComplaintFollowUp,
    ComplaintReply,
    ComplaintState,
    RecordSpotCheck,
    SpotCheckState,
    SpotCheckTask,
)
from workflows.supervision.sampling import draw, population_digest, sample_size

RATE, RATE_REL = Decimal("0.30"), Decimal("0.60")
COUNTY = Actor(officer_id="c", name="县", role=Role.COUNTY_OFFICER, area_code="419901")
OTHER = Actor(officer_id="o", name="外县", role=Role.COUNTY_OFFICER, area_code="410882")
TOWNSHIP = Actor(officer_id="t", name="乡", role=Role.TOWNSHIP_OFFICER, area_code="419901001")
TOWNSHIP2 = Actor(officer_id="t2", name="乡2", role=Role.TOWNSHIP_OFFICER, area_code="419901002")


def kind(exc: pytest.ExceptionInfo[ApplicationError]) -> tuple[str | None, object]:
    details = exc.value.details[0] if exc.value.details else {}
    return exc.value.type, details.get("field") if isinstance(details, dict) else None


def test_a_month_of_fifty_five_decisions_meets_both_rates() -> None:
    population = [decision(i, relatives=i % 5 == 0, outcome="refuse" if i % 3 else "approve")
                  for i in range(55)]  # fmt: skip
    result = draw(population, 20261201, RATE, RATE_REL)
    rel = {d.case_id for d in population if d.relatives_flag}
    others = {d.case_id for d in population} - rel
    picked = set(result.sampled)
    assert len(picked) == len(result.sampled)  # no case twice
    assert len(picked & rel) / len(rel) >= 0.60
    assert len(picked & others) / len(others) >= 0.30
    assert [(s.name, s.population, s.sampled) for s in result.strata] == [
        ("relatives", 11, 7),  # ceil(0.6 × 11)
        ("others", 44, 14),  # ceil(0.3 × 44)
    ]
    assert all(s.share >= s.rate for s in result.strata)
    # Refusals are sampled too (申请未通过 included).
    assert any(d.outcome.value == "refuse" for d in population if d.case_id in picked)


def test_the_draw_is_reproducible_and_depends_on_the_seed() -> None:
    population = [decision(i, relatives=i % 4 == 0) for i in range(60)]
    first = draw(population, 7, RATE, RATE_REL)
    again = draw(list(reversed(population)), 7, RATE, RATE_REL)  # order does not matter
    assert first == again
    assert draw(population, 8, RATE, RATE_REL).sampled != first.sampled
    assert first.population_digest == population_digest([d.case_id for d in population])


def test_sample_size_rounds_up_and_never_exceeds_the_stratum() -> None:
    assert [sample_size(n, RATE) for n in (0, 1, 3, 10, 11)] == [0, 1, 1, 3, 4]
    assert sample_size(2, Decimal("1")) == 2


def round_state() -> SpotCheckState:
    approve = decision(1)
    tekun = decision(2, programme="tekun")
    refuse = decision(3, outcome="refuse")
    return SpotCheckState(
        round_id="spot-check-419901-2026-06",
        county_code="419901",
        area=AreaRef.of("419901"),
        period="2026-06",
        drawn_at=datetime(2026, 7, 2, 1, 0),
        tasks=[
            SpotCheckTask(decision=d, deadline_name=f"spot_check:{d.case_id}")
            for d in (approve, tekun, refuse)
        ],
    )


def finding(**kw: object) -> RecordSpotCheck:
    data: dict[str, object] = {
        "actor": COUNTY,
        "case_id": "D0001",
        "outcome": CheckOutcome.CONFIRMED,
        "findings_zh": "核查无误",
        "checked_on": date(2026, 7, 10),
        **kw,
    }
    return RecordSpotCheck.model_validate(data)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"actor": TOWNSHIP}, ("Forbidden", None)),
        ({"actor": OTHER}, ("Forbidden", None)),
        ({"case_id": "NOPE"}, ("NotFound", "case_id")),
        ({"checked_on": date(2026, 7, 11)}, ("InvalidInput", "checked_on")),
        ({"checked_on": date(2026, 7, 1)}, ("InvalidInput", "checked_on")),
        ({"transfer_check": "dibao"}, ("InvalidInput", "transfer_check")),
        (
            {"case_id": "D0002", "outcome": CheckOutcome.REVERSED},
            ("InvalidInput", "transfer_check"),
        ),
    ],
)
def test_spot_check_refusals(kw: dict[str, object], expected: tuple[str, str | None]) -> None:
    with pytest.raises(ApplicationError) as exc:
        check_spot_check(round_state(), finding(**kw), date(2026, 7, 10))
    assert kind(exc) == expected


def test_spot_check_accepts_a_reversed_tekun_approval_with_its_transfer_check() -> None:
    s = round_state()
    check_spot_check(
        s,
        finding(case_id="D0002", outcome=CheckOutcome.REVERSED, transfer_check="temporary"),
        date(2026, 7, 10),
    )
    s.tasks[0].status = s.tasks[0].status.CONFIRMED
    with pytest.raises(ApplicationError) as exc:
        check_spot_check(s, finding(), date(2026, 7, 10))
    assert kind(exc) == ("WrongState", None)


def test_routing_sends_conduct_and_payment_to_the_county_the_rest_to_the_township() -> None:
    village = AreaRef.of("419901001001")
    assert route(ComplaintCategory.FAVOURITISM, village) == (ResponsibleLevel.COUNTY, "419901")
    assert route(ComplaintCategory.PAYMENT, village) == (ResponsibleLevel.COUNTY, "419901")
    assert route(ComplaintCategory.MISSED, village) == (ResponsibleLevel.TOWNSHIP, "419901001")
    assert route(ComplaintCategory.OTHER, AreaRef.of("419901")) == (
        ResponsibleLevel.COUNTY,
        "419901",
    )


def complaint(anonymous: bool = False, **kw: object) -> ComplaintState:
    data: dict[str, object] = {
        "complaint_id": "C1",
        "channel": ComplaintChannel.HOTLINE,
        "category": ComplaintCategory.MISSED,
        "summary_zh": "应保未保",
        "area": AreaRef.of("419901001001"),
        "subject_case_id": None,
        "subject_household_id": None,
        "programme": "",
        "anonymous": anonymous,
        "received_on": date(2026, 7, 1),
        "received_by": TOWNSHIP,
        "level": ResponsibleLevel.TOWNSHIP,
        "responsible_area": "419901001",
        **kw,
    }
    return ComplaintState.model_validate(data)


def test_complaint_steps_follow_the_routing_and_the_order() -> None:
    s = complaint()
    today = date(2026, 7, 20)
    found = ComplaintFindings(
        actor=TOWNSHIP, findings_zh="属实", substantiated=True, investigated_on=today
    )
    check_findings(s, found, today)
    check_findings(s, found.model_copy(update={"actor": COUNTY}), today)  # the county may
    with pytest.raises(ApplicationError) as exc:
        check_findings(s, found.model_copy(update={"actor": TOWNSHIP2}), today)
    assert kind(exc) == ("Forbidden", None)
    with pytest.raises(ApplicationError) as exc:
        check_findings(s, found.model_copy(update={"investigated_on": date(2026, 6, 30)}), today)
    assert kind(exc) == ("InvalidInput", "investigated_on")
    reply = ComplaintReply(
        actor=TOWNSHIP, reply_zh="已纳入", channel=DeliveryChannel.PHONE, delivered_on=today
    )
    with pytest.raises(ApplicationError) as exc:
        check_reply(s, reply, today)  # no findings yet
    assert kind(exc) == ("WrongState", None)
    anonymous = complaint(anonymous=True)
    with pytest.raises(ApplicationError) as exc:
        check_reply(anonymous, reply, today)
    assert kind(exc) == ("WrongState", None)
    follow = ComplaintFollowUp(actor=TOWNSHIP, satisfied=False, note_zh="", on=today)
    with pytest.raises(ApplicationError) as exc:
        check_follow_up(s, follow, today)
    assert kind(exc) == ("WrongState", None)
    replied = complaint(status=ComplaintStatus.REPLIED)
    with pytest.raises(ApplicationError) as exc:
        check_follow_up(replied, follow, today)
    assert kind(exc) == ("InvalidInput", "note_zh")
    with pytest.raises(ApplicationError) as exc:
        check_follow_up(replied, follow.model_copy(update={"actor": OTHER}), today)
    assert kind(exc) == ("Forbidden", None)
