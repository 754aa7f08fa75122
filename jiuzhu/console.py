"""The Temporal Web UI as an operator's console (issue 13 item 6): the one place that writes the
text a case workflow shows there.

- **Static summary and details** (``static_summary``/``static_details`` of ``start_workflow``,
  ``start_child_workflow`` and a schedule's action): the case kind and programme in Chinese, the
  area's name from the registry (``rules/areas.py``) and the applicant's name *masked*
  (``张*明``). The Web UI shows them in clear, outside the payload codec, so nothing here may be
  personal data in clear (个人信息保护法 Art. 51; 低保办法 Art. 23–24: 保护个人隐私).
- **Current details** (``workflow.set_current_details``, set by ``CasePublisher.dynamic``; no
  history event): the status in Chinese, the next deadline (its name, its due day in Beijing
  time) and who acts (role and area, from the deadline's spec — DOMAIN §8).

Pure (no I/O, no workflow calls), so the API, activities and workflow code share it."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from jiuzhu.clock import to_beijing
from jiuzhu.contract import ROLE_NAMES_ZH, CaseKind, Role
from rules.areas import full_name, is_known_area
from rules.id_number import mask_name
from rules.programmes import PROGRAMME_NAMES_ZH, Programme

CASE_KIND_NAMES_ZH: Mapping[CaseKind, str] = {
    CaseKind.APPLICATION: "救助申请",
    CaseKind.ENTITLEMENT: "救助待遇",
    CaseKind.PAYROLL: "月度救助金发放",
    CaseKind.TEMPORARY: "临时救助",
    CaseKind.RECOVERY: "追回多发救助金",
    CaseKind.BANK_BATCH: "临时救助每日代发批次",
    CaseKind.SPOT_CHECK: "审核确认抽查",
    CaseKind.COMPLAINT: "投诉举报",
    CaseKind.WARNING: "动态监测预警",
    CaseKind.REFERRAL: "转介",
    CaseKind.RECOGNITION: "边缘/支出型认定年度复核",
    CaseKind.LISTING: "长期公示更新",
    CaseKind.CAMPAIGN: "一次性补贴发放",
    CaseKind.LAUNCHER: "按计划启动",
}


class StaticText(BaseModel):
    """What a workflow is started with: a one-line summary and a few lines of details."""

    model_config = ConfigDict(frozen=True)

    summary: str
    details: str


def area_name_zh(code: str | None) -> str:
    """The area's full name from the registry; the code itself if the registry lacks it."""
    if not code:
        return "—"
    return full_name(code) if is_known_area(code) else code


def programme_name(programme: str | None) -> str | None:
    """A programme's Chinese name (``dibao`` → 最低生活保障); other strings as they are."""
    if programme is None:
        return None
    try:
        return PROGRAMME_NAMES_ZH[Programme(programme)]
    except ValueError:
        return programme


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def relation(self) -> str: ...


def applicant_name(members: Sequence[_Named]) -> str | None:
    """The applicant's name from a written application's member list (to be masked)."""
    for m in members:
        if m.relation == "applicant":
            return m.name
    return members[0].name if members else None


def case_static(
    kind: CaseKind,
    *,
    area_code: str | None,
    programme: str | None = None,
    applicant_name: str | None = None,
    subject_zh: str | None = None,
) -> StaticText:
    """The Web UI's summary and details of one case: ``低保申请 · 演示县城关镇 · 张*明``.
    ``subject_zh`` names a case without an applicant (a payroll month, a campaign, a batch day);
    ``applicant_name`` is masked here, never shown in clear."""
    kind_zh = CASE_KIND_NAMES_ZH[kind]
    programme_zh = programme_name(programme)
    area_zh = area_name_zh(area_code)
    masked = mask_name(applicant_name) if applicant_name else None
    head = f"{programme_zh}{kind_zh}" if programme_zh and kind_zh not in programme_zh else kind_zh
    parts = [head, area_zh] + [p for p in (subject_zh, masked) if p]
    lines = [f"**案件类型**：{kind_zh}"]
    if programme_zh:
        lines.append(f"**救助项目**：{programme_zh}")
    lines.append(f"**所属地区**：{area_zh}" + (f"（{area_code}）" if area_code else ""))
    if subject_zh:
        lines.append(f"**事项**：{subject_zh}")
    if masked:
        lines.append(f"**申请人**：{masked}")
    return StaticText(summary=" · ".join(parts), details="\n\n".join(lines))


def launcher_static(what_zh: str, county_code: str) -> StaticText:
    """A scheduled run that only starts the period's canonical workflow and ends
    (``CaseKind.LAUNCHER``): visibly a launcher, so an operator's saved query leaves it out."""
    area_zh = area_name_zh(county_code)
    return StaticText(
        summary=f"按计划启动：{area_zh}{what_zh}",
        details=(
            f"**案件类型**：{CASE_KIND_NAMES_ZH[CaseKind.LAUNCHER]}\n\n"
            f"**所属地区**：{area_zh}（{county_code}）\n\n"
            f"**说明**：本次运行只启动当期的{what_zh}工作流（固定编号）后即结束，"
            "发放进度请查看该工作流。"
        ),
    )


class NextStep(BaseModel):
    """The earliest open deadline: its name, due day, and who owes it."""

    model_config = ConfigDict(frozen=True)

    label_zh: str
    due_date: date
    due_at: datetime
    role: Role
    area_code: str
    overdue: bool = False


def current_details(
    status_zh: str,
    step: NextStep | None,
    *,
    also_due: datetime | None = None,
    outcome_zh: str | None = None,
) -> str:
    """The Web UI's current details: status, next deadline (Beijing time) and who acts."""
    lines = [f"**状态**：{status_zh}"]
    if outcome_zh:
        lines.append(f"**结果**：{outcome_zh}")
    if step is not None:
        late = "（已逾期）" if step.overdue else ""
        due = to_beijing(step.due_at).strftime("%Y-%m-%d %H:%M")
        lines.append(f"**下一时限**：{step.label_zh}，{step.due_date.isoformat()}（{due}）前{late}")
        lines.append(f"**办理**：{ROLE_NAMES_ZH[step.role]}（{area_name_zh(step.area_code)}）")
    if also_due is not None and (step is None or also_due < step.due_at):
        lines.append(f"**下次到期**：{to_beijing(also_due).date().isoformat()}")
    if step is None and also_due is None:
        lines.append("**下一时限**：无")
    return "\n\n".join(lines)


# The decision outcome (the ``DecisionOutcome`` search attribute) in Chinese.
OUTCOME_NAMES_ZH: Mapping[str, str] = {
    "approved": "已确认（批准）",
    "refused": "不予确认",
    "withdrawn": "已撤回",
    "lapsed": "逾期未补齐材料",
    "terminated": "已终止审核",
    "aided": "已救助",
    "recovered": "已追回",
    "closed_without_aid": "未予救助结案",
    "ended": "待遇已终止",
}
