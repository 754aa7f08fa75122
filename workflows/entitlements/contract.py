"""The entitlements domain's contract, imported by the API, the worker, the application that
hands an approved case over and the activities (the death check): the workflow type name and
id, the statuses, the update/query/signal names, and the hand-off model.

Hand-off (DOMAIN §3 step 7, §5): an approved application starts the entitlement as a child
workflow of type ``ENTITLEMENT_WORKFLOW_TYPE`` with id ``entitlement_workflow_id(household_id,
programme)`` and parent-close policy ABANDON (an entitlement outlives its application by years),
passing an ``ApprovedCase``; the entitlement's input model extends it.

Pure (no I/O, no workflow classes)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from jiuzhu.areas import AreaRef
from jiuzhu.contract import (
    SA_AREA,
    SA_CASE_KIND,
    SA_COUNTY,
    SA_HOUSEHOLD,
    SA_OVERDUE,
    SA_PROGRAMME,
    SA_STATUS,
    SA_TOWNSHIP,
    Actor,
    CaseKind,
)
from rules.household import Household
from rules.programmes import Programme

ENTITLEMENT_WORKFLOW_TYPE = "EntitlementWorkflow"

# Message names (unchanged, so running entitlements keep taking them).
GET_STATE = "get_state"
REPORT_CHANGE = "report_change"
CLOSE_INVESTIGATION = "close_investigation"
RECORD_DEATH = "record_death"
RECORD_WORK_REFUSAL = "record_work_refusal"
RECORD_MOVE_OUT = "record_move_out"
CHANGE_CARD_ACCOUNT = "change_card_account"
RECORD_REVIEW_OUTCOME = "record_review_outcome"
RECORD_SELF_CARE_ASSESSMENT = "record_self_care_assessment"  # 特困办法 Art. 20–23


def entitlement_workflow_id(household_id: str, programme: str) -> str:
    """One entitlement per household and programme: ``entitlement-<household>-<programme>``."""
    return f"entitlement-{household_id}-{programme}"


class EntitlementStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # every share suspended: nothing paid until the review decides
    WITHDRAWAL = "withdrawal"  # 渐退期: paid until ``end_month``, then ended
    TERMINATING = "terminating"  # 特困: proposed termination under 7-day publicity
    ENDED = "ended"


PAYING_STATUSES = (EntitlementStatus.ACTIVE, EntitlementStatus.WITHDRAWAL)

# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
STATUS_LABELS_ZH: dict[EntitlementStatus, str] = {
    EntitlementStatus.ACTIVE: "享受待遇中",
    EntitlementStatus.SUSPENDED: "暂停发放，待核查决定",
    EntitlementStatus.WITHDRAWAL: "渐退期",
    EntitlementStatus.TERMINATING: "拟终止供养公示中",
    EntitlementStatus.ENDED: "待遇已终止",
}


class ShareStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # e.g. death reported, pending the household review
    CUT = "cut"  # work refusal (低保办法 Art. 34)
    DECEASED = "deceased"  # death confirmed by the review
    MOVED_OUT = "moved_out"  # 分户/迁出: left the household (may join another one)


class CardAccount(BaseModel):
    """The social-security card account (社保卡 一卡通) that payments are credited to."""

    holder_name: str
    holder_id_number: str
    account_number: str
    bank_code: str = ""


class ApprovedCase(BaseModel):
    """What an approved application hands to the entitlement that pays it."""

    application_id: str
    household_id: str
    programme: Programme
    single_person: bool = False
    area_code: str
    household: Household
    monthly_amount: Decimal = Field(decimal_places=2)
    start_month: date  # first day of the month payment starts (the month after approval)
    approved_at: datetime
    approved_by: Actor
    policy_version_id: str
    card_account: CardAccount
    members_can_work: bool = False
    centralised: bool = False  # 特困 集中供养: paid to the institution
    institution_name: str | None = None
    care_tier: str | None = None


class DeathNotification(BaseModel):
    """``record_death`` input: a death found by the monthly death check (or reported). The
    share is suspended at once and a household review is opened (due within the policy's
    ``death_review``)."""

    id_number: str
    date_of_death: date
    source: str
    record_ref: str


class DeathResult(BaseModel):
    applied: bool
    review_id: str | None = None


def initial_search_attributes(case: ApprovedCase) -> TypedSearchAttributes:
    """Search attributes for a caller that starts the entitlement (the application does, as a
    child); the workflow publishes any that are missing on its first step."""
    area = AreaRef.of(case.area_code)
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.ENTITLEMENT.value),
            SearchAttributePair(SA_PROGRAMME, case.programme.value),
            SearchAttributePair(SA_STATUS, EntitlementStatus.ACTIVE.value),
            SearchAttributePair(SA_AREA, area.code),
            SearchAttributePair(SA_COUNTY, area.county),
            SearchAttributePair(SA_TOWNSHIP, area.township),
            SearchAttributePair(SA_HOUSEHOLD, case.household_id),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )
