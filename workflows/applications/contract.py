"""The applications domain's contract, shared by the API, the worker, the temporary-assistance
domain and activities: the workflow type and its ids, the statuses a case moves through, the
names of its updates and queries, the applicant list a case starts with, and the search
attributes it is started with. Pure (no I/O)."""

import hashlib
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel
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
    CaseKind,
)
from rules.household import Relation
from rules.programmes import Programme

WORKFLOW_TYPE = "ApplicationWorkflow"

# Update names (one per statutory step) and queries: stable, so running cases continue.
ACCEPT = "accept"
REQUEST_DOCUMENTS = "request_documents"
SUPPLEMENT = "supplement"
RECORD_INVESTIGATION = "record_investigation"
OBJECT_TO_VERIFICATION = "object_to_verification"
RECORD_APPRAISAL = "record_appraisal"
INITIAL_OPINION = "initial_opinion"
PUBLICITY_OBJECTION = "publicity_objection"
COUNTY_VISIT = "county_visit"
EXTEND_DEADLINE = "extend_deadline"
DECIDE = "decide"
RECORD_FILING = "record_filing"
DELIVER_NOTICE = "deliver_notice"
EDGE_CONSENT = "edge_consent"
WITHDRAW = "withdraw"
END_REVIEW = "end_review"
GET_STATE = "get_state"
GET_STATUS = "get_status"


def application_workflow_id(application_id: str) -> str:
    return f"application-{application_id}"


def application_id_for_key(officer_id: str, idempotency_key: str) -> str:
    """A stable application id for a client's Idempotency-Key: the same officer retrying the same
    key always addresses the same workflow."""
    digest = hashlib.sha256(f"{officer_id}\x1f{idempotency_key}".encode()).hexdigest()
    return f"A{digest[:15].upper()}"


class ApplicationStatus(StrEnum):
    """Where a case stands (DOMAIN §3 steps 1–9)."""

    SUBMITTED = "submitted"  # 申请: waiting for acceptance
    DOCUMENTS_REQUESTED = "documents_requested"  # 一次性告知 issued, waiting for the supplement
    ACCEPTED = "accepted"  # 受理: waiting for the household economic investigation
    VERIFICATION = "verification"  # 信息核对 running
    AWAITING_OPINION = "awaiting_opinion"  # investigated and verified: 初审 due
    PUBLICITY = "publicity"  # 公示
    OBJECTION = "objection"  # 公示异议: re-investigation or democratic appraisal due
    AWAITING_DECISION = "awaiting_decision"  # 审核确认 due
    AWAITING_FILING = "awaiting_filing"  # temporary aid approved by the township: county record
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    TERMINATED = "terminated"  # review ended for refusal to cooperate (低保办法 Art. 29)
    LAPSED = "lapsed"  # missing documents never supplied


# Statuses in which a decision has been taken or the case is closed: no more review steps.
CLOSED_STATUSES = frozenset(
    {
        ApplicationStatus.APPROVED,
        ApplicationStatus.REFUSED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.TERMINATED,
        ApplicationStatus.LAPSED,
    }
)


STATUS_ZH: dict[ApplicationStatus, str] = {
    ApplicationStatus.SUBMITTED: "已申请待受理",
    ApplicationStatus.DOCUMENTS_REQUESTED: "待补齐材料",
    ApplicationStatus.ACCEPTED: "已受理待调查",
    ApplicationStatus.VERIFICATION: "信息核对中",
    ApplicationStatus.AWAITING_OPINION: "待初审",
    ApplicationStatus.PUBLICITY: "公示中",
    ApplicationStatus.OBJECTION: "公示有异议",
    ApplicationStatus.AWAITING_DECISION: "待审核确认",
    ApplicationStatus.AWAITING_FILING: "待县级备案",
    ApplicationStatus.APPROVED: "已确认",
    ApplicationStatus.REFUSED: "不予确认",
    ApplicationStatus.WITHDRAWN: "已撤回",
    ApplicationStatus.TERMINATED: "已终止审核",
    ApplicationStatus.LAPSED: "逾期未补齐材料",
}

# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
STATUS_LABELS_ZH: dict[ApplicationStatus, str] = STATUS_ZH

# The ``DecisionOutcome`` search attribute of a closed application (issue 13 item 6).
OUTCOMES: dict[ApplicationStatus, str] = {
    ApplicationStatus.APPROVED: "approved",
    ApplicationStatus.REFUSED: "refused",
    ApplicationStatus.WITHDRAWN: "withdrawn",
    ApplicationStatus.TERMINATED: "terminated",
    ApplicationStatus.LAPSED: "lapsed",
}


class ApplicantMember(BaseModel):
    """A member as listed on the written application (before any investigation)."""

    name: str
    id_number: str
    relation: Relation


class _Starting(Protocol):
    @property
    def programme(self) -> Programme: ...
    @property
    def area_code(self) -> str: ...
    @property
    def household_id(self) -> str: ...


def initial_search_attributes(inp: _Starting, status: str) -> TypedSearchAttributes:
    """Search attributes set by the starter (API, temporary case, refused case), so a case is
    findable in the Web UI from its first moment."""
    area = AreaRef.of(inp.area_code)
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.APPLICATION.value),
            SearchAttributePair(SA_PROGRAMME, inp.programme.value),
            SearchAttributePair(SA_STATUS, status),
            SearchAttributePair(SA_AREA, area.code),
            SearchAttributePair(SA_COUNTY, area.county),
            SearchAttributePair(SA_TOWNSHIP, area.township),
            SearchAttributePair(SA_HOUSEHOLD, inp.household_id),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )
