"""The recognitions domain's contract (低保边缘 / 刚性支出困难 认定后的年度复核), imported by
the API, the worker and the application that hands an approved recognition over: the workflow
type name and id, statuses, message names, the deadline's name and the hand-off model.

Hand-off: an application of programme ``dibao_edge`` or ``rigid_expense`` approved as a
recognition (no cash entitlement) starts ``RECOGNITION_WORKFLOW_TYPE`` as a child with id
``recognition_workflow_id(household_id, programme)`` and parent-close policy ABANDON, passing a
``RecognisedCase``. Seed 000 (豫政办〔2022〕103号 二(二)): 对最低生活保障边缘人口和支出型困难
人口，应当自认定之日起进行年度复核和定期核查，视家庭困难状况变化情况予以动态调整.

Pure (no I/O, no workflow classes)."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from jiuzhu.contract import Actor
from rules.programmes import Programme

RECOGNITION_WORKFLOW_TYPE = "RecognitionReviewWorkflow"

GET_STATE = "get_state"
RECORD_REVIEW = "record_review"

REVIEW_DEADLINE = "recognition_review"  # the yearly review's completion deadline

RECOGNITION_PROGRAMMES = (Programme.DIBAO_EDGE, Programme.RIGID_EXPENSE)

BASIS = "豫政办〔2022〕103号 二(二)：自认定之日起进行年度复核和定期核查"


def recognition_workflow_id(household_id: str, programme: str) -> str:
    """One recognition per household and programme: ``recognition-<household>-<programme>``."""
    return f"recognition-{household_id}-{programme}"


class RecognitionStatus(StrEnum):
    RECOGNISED = "recognised"  # in force, next yearly review ahead
    UNDER_REVIEW = "under_review"  # the yearly review is open (deadline running)
    ENDED = "ended"  # no longer recognised (the review found it no longer fits)


STATUS_LABELS_ZH: dict[RecognitionStatus, str] = {
    RecognitionStatus.RECOGNISED: "已认定",
    RecognitionStatus.UNDER_REVIEW: "年度复核中",
    RecognitionStatus.ENDED: "认定已终止",
}


class ReviewDecisionKind(StrEnum):
    CONTINUE = "continue"  # still fits: recognised for another year
    END = "end"  # no longer fits: the recognition ends


DECISION_NAMES_ZH: dict[ReviewDecisionKind, str] = {
    ReviewDecisionKind.CONTINUE: "继续认定",
    ReviewDecisionKind.END: "终止认定",
}


class RecognisedCase(BaseModel):
    """What an approved recognition hands to its yearly review."""

    application_id: str
    household_id: str
    programme: Programme
    area_code: str
    recognised_on: date  # the recognition (decision) date: the review year runs from it
    recognised_at: datetime
    recognised_by: Actor
    applicant_name: str
    applicant_id_number: str
    household_size: int = Field(ge=1)
    policy_version_id: str
