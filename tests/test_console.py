"""The Web UI's text (``jiuzhu.console``): every case kind's statuses have a Chinese label, the
static summary masks the applicant and names the area, the current details say status, next
deadline and who acts. Pure: no server."""

from datetime import date
from enum import StrEnum

import pytest
from temporalio.client import ScheduleActionStartWorkflow

from jiuzhu.clock import end_of_day
from jiuzhu.console import (
    CASE_KIND_NAMES_ZH,
    OUTCOME_NAMES_ZH,
    NextStep,
    case_static,
    current_details,
    launcher_static,
)
from jiuzhu.contract import SA_CASE_KIND, CaseKind, Role
from jiuzhu.schedules import daily_batch_schedule
from jiuzhu.spot_check_schedules import spot_check_schedule
from workflows.applications import contract as applications
from workflows.entitlements import contract as entitlements
from workflows.monitoring import contract as monitoring
from workflows.payments import contract as payments
from workflows.recoveries import contract as recoveries
from workflows.referrals import contract as referrals
from workflows.supervision import contract as supervision
from workflows.temporary import contract as temporary

LABELS: list[tuple[type[StrEnum], object]] = [
    (applications.ApplicationStatus, applications.STATUS_LABELS_ZH),
    (entitlements.EntitlementStatus, entitlements.STATUS_LABELS_ZH),
    (monitoring.WarningStatus, monitoring.STATUS_LABELS_ZH),
    (payments.PayrollStatus, payments.PAYROLL_STATUS_LABELS_ZH),
    (payments.CampaignStatus, payments.CAMPAIGN_STATUS_LABELS_ZH),
    (payments.DailyBatchStatus, payments.DAILY_BATCH_STATUS_LABELS_ZH),
    (recoveries.RecoveryStatus, recoveries.STATUS_LABELS_ZH),
    (referrals.ReferralStatus, referrals.STATUS_LABELS_ZH),
    (supervision.SpotCheckStatus, supervision.SPOT_CHECK_STATUS_LABELS_ZH),
    (supervision.ComplaintStatus, supervision.COMPLAINT_STATUS_LABELS_ZH),
    (temporary.TemporaryStatus, temporary.STATUS_LABELS_ZH),
]


@pytest.mark.parametrize(("enum", "labels"), LABELS, ids=[e.__name__ for e, _ in LABELS])
def test_every_status_has_a_chinese_label(enum: type[StrEnum], labels: dict[StrEnum, str]) -> None:
    assert set(labels) == set(enum), set(enum) - set(labels)
    assert all(label and not label.isascii() for label in labels.values())
    # The publisher looks labels up by the plain status string it publishes.
    assert all(labels[member.value] for member in enum)  # type: ignore[index]


def test_every_case_kind_and_outcome_has_a_chinese_name() -> None:
    assert set(CASE_KIND_NAMES_ZH) == set(CaseKind)
    outcomes = set(applications.OUTCOMES.values()) | {o.value for o in temporary.TemporaryOutcome}
    assert outcomes | {"ended"} <= set(OUTCOME_NAMES_ZH)


def test_the_static_summary_masks_the_applicant_and_names_the_area() -> None:
    text = case_static(
        CaseKind.APPLICATION, area_code="419901001001", programme="dibao", applicant_name="张建明"
    )
    assert text.summary.startswith("最低生活保障救助申请 · ")
    assert "张*明" in text.summary and "张建明" not in text.summary + text.details
    assert "演示县" in text.summary and "419901001001" in text.details
    assert "**救助项目**：最低生活保障" in text.details


def test_a_launcher_is_visibly_a_launcher() -> None:
    text = launcher_static("月度救助金发放", "419901")
    assert text.summary.startswith("按计划启动：") and "演示县" in text.summary


def test_current_details_say_status_next_deadline_and_who_acts() -> None:
    due = date(2026, 12, 2)
    step = NextStep(
        label_zh="入户调查启动",
        due_date=due,
        due_at=end_of_day(due),
        role=Role.TOWNSHIP_OFFICER,
        area_code="419901001",
        overdue=True,
    )
    text = current_details("已受理待调查", step)
    assert "**状态**：已受理待调查" in text
    assert "入户调查启动，2026-12-02" in text and "已逾期" in text
    assert "乡镇/街道经办人（" in text and "演示县" in text
    assert "**下一时限**：无" in current_details("已确认", None, outcome_zh="已确认（批准）")


def test_scheduled_runs_are_launchers_that_saved_queries_leave_out() -> None:
    """The daily bank batch's and the spot check's scheduled runs are ``CaseKind = 'launcher'``
    with a launcher's summary (README: the Web UI as a console); the payroll has no launcher."""
    for schedule in (
        daily_batch_schedule("419901", "q"),
        spot_check_schedule("419901", "q"),
    ):
        action = schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.typed_search_attributes.get(SA_CASE_KIND) == CaseKind.LAUNCHER.value
        assert str(action.static_summary).startswith("按计划启动：")
