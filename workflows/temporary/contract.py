"""The temporary-assistance contract (临时救助, DOMAIN §6), imported by the API, the worker, the
activities and the workflow: workflow type and ids, the case-id builder for an Idempotency-Key,
statuses, outcomes, procedures, event types, the names of the workflow's messages, the refusal
codes a client may see and the idempotency keys of the case's money movements.

Pure (no I/O, no workflow classes)."""

import hashlib
from datetime import date
from enum import StrEnum

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from jiuzhu.contract import SA_CASE_KIND, SA_OVERDUE, SA_STATUS, CaseKind

WORKFLOW_TYPE = "TemporaryCaseWorkflow"


def temporary_workflow_id(case_id: str) -> str:
    """``temporary-T0123…``: one workflow per case."""
    return f"temporary-{case_id}"


def temporary_case_id_for_key(officer_id: str, idempotency_key: str) -> str:
    """A stable case id for a client's Idempotency-Key (same officer, same key → same case):
    ``T`` + 15 upper-case hex digits."""
    digest = hashlib.sha256(f"temporary\x1f{officer_id}\x1f{idempotency_key}".encode()).hexdigest()
    return f"T{digest[:15].upper()}"


def application_id_for_case(case_id: str) -> str:
    """The id of the 支出型 application a temporary case runs as its child workflow."""
    digest = hashlib.sha256(f"temporary-application\x1f{case_id}".encode()).hexdigest()
    return f"A{digest[:15].upper()}"


# --- idempotency keys of money movements (minted in the workflow, never in the API) -----------
def prepayment_key(case_id: str) -> str:
    """One prepayment per case: a retry or replay never pays twice."""
    return f"temporary:{case_id}:prepayment"


def stage_key(case_id: str, index: int) -> str:
    """Each stage of a staged plan is paid once (case + 1-based stage index)."""
    return f"temporary:{case_id}:stage:{index}"


def award_key(case_id: str) -> str:
    """The 支出型 award after the application is approved."""
    return f"temporary:{case_id}:award"


def recovery_key(case_id: str, n: int) -> str:
    """The ``n``-th recovered amount credited back to the reserve fund (1-based)."""
    return f"temporary:{case_id}:recovery:{n}"


def event_key(id_number: str, event_type: str, event_date: date) -> str:
    """One person's claim on one event (type + date): 32 hex digits of a hash, so the event
    register holds no ID numbers in the clear (民发〔2018〕23号: 对同一事由不重复救助)."""
    raw = f"{id_number.strip().upper()}\x1f{event_type}\x1f{event_date.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# --- enums ------------------------------------------------------------------------------------
class TemporaryProcedure(StrEnum):
    """急难型 (emergency: prepayment now, justification later) or 支出型 (normal procedure)."""

    EMERGENCY = "emergency"
    NORMAL = "normal"


class EventType(StrEnum):
    """The emergency or hardship the aid answers (民发〔2018〕23号 一(二))."""

    FIRE = "fire"
    ACCIDENT = "accident"
    SERIOUS_ILLNESS = "serious_illness"
    NATURAL_DISASTER = "natural_disaster"
    CRIME = "crime"
    EXPENSE_SPIKE = "expense_spike"
    OTHER = "other"


EVENT_TYPE_NAMES_ZH: dict[EventType, str] = {
    EventType.FIRE: "火灾",
    EventType.ACCIDENT: "意外事故",
    EventType.SERIOUS_ILLNESS: "突发重大疾病",
    EventType.NATURAL_DISASTER: "自然灾害",
    EventType.CRIME: "遭受不法侵害",
    EventType.EXPENSE_SPIKE: "刚性支出突增",
    EventType.OTHER: "其他",
}


class TemporaryStatus(StrEnum):
    """Where the case stands (the ProgrammeStatus search attribute). A case may combine a
    prepayment and a referral; the status shows the most urgent open part."""

    REGISTERED = "registered"  # 已登记
    PREPAID = "prepaid"  # 已先行救助，待事后补充说明
    JUSTIFIED = "justified"  # 已补充说明，待县级审核
    RECOVERY = "recovery"  # 补充说明未通过，追回中
    REFERRED = "referred"  # 已提交县级一事一议
    PAYING = "paying"  # 一次审批、分阶段救助中
    IN_APPLICATION = "in_application"  # 支出型：审核审批中
    CLOSED = "closed"


STATUS_NAMES_ZH: dict[TemporaryStatus, str] = {
    TemporaryStatus.REGISTERED: "已登记",
    TemporaryStatus.PREPAID: "已先行救助，待补充说明",
    TemporaryStatus.JUSTIFIED: "已补充说明，待县级审核",
    TemporaryStatus.RECOVERY: "追回中",
    TemporaryStatus.REFERRED: "待县级一事一议",
    TemporaryStatus.PAYING: "分阶段发放中",
    TemporaryStatus.IN_APPLICATION: "审核审批中",
    TemporaryStatus.CLOSED: "已办结",
}

# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
STATUS_LABELS_ZH: dict[TemporaryStatus, str] = STATUS_NAMES_ZH


class TemporaryOutcome(StrEnum):
    AIDED = "aided"  # money paid and every part settled
    RECOVERED = "recovered"  # prepayment rejected and recovered
    REFUSED = "refused"  # application refused or 一事一议 refused, nothing paid
    WITHDRAWN = "withdrawn"
    CLOSED_WITHOUT_AID = "closed_without_aid"


class PrepaymentStatus(StrEnum):
    """A row of the open-prepayment register (``temporary_prepayment.status``)."""

    AWAITING_JUSTIFICATION = "awaiting_justification"
    AWAITING_REVIEW = "awaiting_review"
    ACCEPTED = "accepted"
    RECOVERY = "recovery"
    RECOVERED = "recovered"


OPEN_PREPAYMENT = (PrepaymentStatus.AWAITING_JUSTIFICATION, PrepaymentStatus.AWAITING_REVIEW)

# --- refusal codes (``code`` in the problem body, beside the RefusalKind) -------------------
INSUFFICIENT_FUNDS = "InsufficientFunds"
NO_RESERVE_FUND = "NoReserveFund"
EVENT_ALREADY_AIDED = "EventAlreadyAided"

# --- message names (kept as they were, so running cases continue) ---------------------------
GET_STATE = "get_state"
GRANT_PREPAYMENT = "grant_prepayment"
SUBMIT_JUSTIFICATION = "submit_justification"
REVIEW_JUSTIFICATION = "review_justification"
RECORD_RECOVERY = "record_recovery"
REFER_TO_COUNTY = "refer_to_county"
DECIDE_SPECIAL = "decide_special"
CLOSE_CASE = "close_case"

# The name of the prepayment's justification deadline in the case's deadline book.
JUSTIFICATION_DEADLINE = "prepayment_justification"
# The county's 一事一议 decision on a referred case (policy ``special_decision``).
SPECIAL_DECISION_DEADLINE = "special_decision"


def start_search_attributes() -> TypedSearchAttributes:
    """What the starter sets, so a new case is listed as temporary (and registered, not overdue)
    from its first moment; the workflow's publisher adds programme, areas and household."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.TEMPORARY.value),
            SearchAttributePair(SA_STATUS, TemporaryStatus.REGISTERED.value),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )
