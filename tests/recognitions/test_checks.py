"""The recognition review's pure check, without a server: role, area, state and paper date."""

from datetime import date

import pytest
from temporalio.exceptions import ApplicationError

from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from workflows.recognitions.checks import check_review
from workflows.recognitions.contract import RecognitionStatus, ReviewDecisionKind
from workflows.recognitions.models import RecognitionState, ReviewDecision, ReviewRecord

AREA = "419901001001"


def officer(role: Role, area: str) -> Actor:
    return Actor(officer_id=f"{role.value}-{area}", name="officer", role=role, area_code=area)


def state(status: RecognitionStatus) -> RecognitionState:
    return RecognitionState(
        recognition_id="H1-dibao_edge",
        application_id="A1-E",
        household_id="H1",
        programme="dibao_edge",
        area=AreaRef.of(AREA),
        recognised_on=date(2026, 3, 2),
        recognised_by=officer(Role.COUNTY_OFFICER, "419901"),
        applicant_name="张三",
        applicant_id_number="419901197001010011",
        household_size=2,
        policy_version_id="test",
        status=status,
        next_review=date(2027, 3, 2),
        reviews=[ReviewRecord(year=1, opened_on=date(2027, 3, 2))]
        if status is RecognitionStatus.UNDER_REVIEW
        else [],
    )


def decision(role: Role, area: str, on: date | None = None) -> ReviewDecision:
    return ReviewDecision(
        actor=officer(role, area),
        outcome=ReviewDecisionKind.CONTINUE,
        findings_zh="仍符合条件",
        decided_on=on,
    )


def test_open_review_by_township_or_county_of_the_area() -> None:
    s = state(RecognitionStatus.UNDER_REVIEW)
    today = date(2027, 3, 10)
    assert check_review(s, decision(Role.TOWNSHIP_OFFICER, "419901001"), today) == today
    assert check_review(s, decision(Role.COUNTY_OFFICER, "419901", date(2027, 3, 5)), today)


@pytest.mark.parametrize(
    ("status", "role", "area", "on"),
    [
        (RecognitionStatus.RECOGNISED, Role.TOWNSHIP_OFFICER, "419901001", None),
        (RecognitionStatus.UNDER_REVIEW, Role.VILLAGE_ASSISTANT, AREA, None),
        (RecognitionStatus.UNDER_REVIEW, Role.TOWNSHIP_OFFICER, "419902001", None),
        (RecognitionStatus.UNDER_REVIEW, Role.TOWNSHIP_OFFICER, "419901001", date(2027, 3, 1)),
        (RecognitionStatus.UNDER_REVIEW, Role.TOWNSHIP_OFFICER, "419901001", date(2027, 3, 11)),
    ],
)
def test_refused(status: RecognitionStatus, role: Role, area: str, on: date | None) -> None:
    with pytest.raises(ApplicationError):
        check_review(state(status), decision(role, area, on), date(2027, 3, 10))
