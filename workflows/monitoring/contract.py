"""The monitoring domain's contract (动态监测预警, issue 14 items 3 and 5), imported by the API,
the worker and the activities: the warning workflow's type, ids and message names, the
population's categories, the data-comparison kinds, the warning statuses and the visit outcomes.
Pure (no I/O, no workflow classes)."""

import hashlib
from datetime import date
from enum import StrEnum

WARNING_WORKFLOW_TYPE = "MonitoringWarningWorkflow"

# Names of the messages the warning workflow takes.
RECORD_VISIT = "record_visit"
GET_STATE = "get_state"

# The warning's one deadline: the township's home visit (policy ``warning_home_visit``).
HOME_VISIT_DEADLINE = "home_visit"

# The Update of the entitlement a change investigation is opened with (by name: activities do
# not import workflow code) and its change kind (``ChangeKind.DATA_FLAG``).
ENTITLEMENT_REPORT_CHANGE = "report_change"
ENTITLEMENT_DATA_FLAG = "data_flag"


def warning_id_for(id_number: str, kind: str, observed_on: date, area_code: str) -> str:
    """One warning per person, kind of data and date observed: the same record loaded again
    finds the warning it raised (``W`` + 15 upper-case hex digits; no ID number in the clear)."""
    raw = f"warning\x1f{id_number.strip().upper()}\x1f{kind}\x1f{observed_on}\x1f{area_code[:6]}"
    return "W" + hashlib.sha256(raw.encode()).hexdigest()[:15].upper()


def warning_workflow_id(warning_id: str) -> str:
    return f"warning-{warning_id}"


class MonitoringCategory(StrEnum):
    """Who is in the low-income monitoring population (豫政办〔2022〕103号 二(一), seed 000; 辽宁
    2024 意见 二.2(2), seed 001: refused applicants and exits of less than two years)."""

    DIBAO = "dibao"
    TEKUN = "tekun"
    DIBAO_EDGE = "dibao_edge"
    RIGID_EXPENSE = "rigid_expense"
    REFUSED = "refused"  # refused a 低保/特困/边缘/支出型 application
    EXITED = "exited"  # left 低保/特困 (kept for ``monitoring_after_exit``)


RECIPIENT_CATEGORIES = (MonitoringCategory.DIBAO, MonitoringCategory.TEKUN)

CATEGORY_NAMES_ZH: dict[MonitoringCategory, str] = {
    MonitoringCategory.DIBAO: "低保对象",
    MonitoringCategory.TEKUN: "特困人员",
    MonitoringCategory.DIBAO_EDGE: "低保边缘家庭",
    MonitoringCategory.RIGID_EXPENSE: "刚性支出困难家庭",
    MonitoringCategory.REFUSED: "申请未获批准对象",
    MonitoringCategory.EXITED: "退出低保/特困不满两年对象",
}


class DataKind(StrEnum):
    """The kinds of data-comparison records (issue 14 item 3; 辽宁 2024 意见 二.3(1))."""

    INCOME = "income"  # monthly income (tax, social insurance, wages)
    ASSETS = "assets"  # financial assets (deposits, securities)
    DEATH = "death"
    HOSPITALISATION = "hospitalisation"  # out-of-pocket hospital costs
    DISABILITY = "disability"  # a new disability certificate
    VEHICLE = "vehicle"  # a vehicle registered (value)
    BUSINESS = "business"  # a business registered


DATA_NAMES_ZH: dict[DataKind, str] = {
    DataKind.INCOME: "收入",
    DataKind.ASSETS: "金融资产",
    DataKind.DEATH: "死亡",
    DataKind.HOSPITALISATION: "住院",
    DataKind.DISABILITY: "残疾",
    DataKind.VEHICLE: "车辆",
    DataKind.BUSINESS: "工商登记",
}

AMOUNT_KINDS = (DataKind.INCOME, DataKind.ASSETS, DataKind.HOSPITALISATION, DataKind.VEHICLE)


class VisitOutcome(StrEnum):
    """What the township's home visit starts (豫政办〔2022〕103号 三(三), seed 000)."""

    APPLICATION_OFFERED = "application_offered"  # 告知救助政策，协助其提出申请
    CHANGE_INVESTIGATION = "change_investigation"  # 可能不再符合条件：核实（待遇变更调查）
    TEMPORARY_AID = "temporary_aid"  # 临时救助
    CLOSED = "closed"  # 核实无需救助，说明理由后办结


OUTCOME_NAMES_ZH: dict[VisitOutcome, str] = {
    VisitOutcome.APPLICATION_OFFERED: "告知救助政策并协助申请",
    VisitOutcome.CHANGE_INVESTIGATION: "转入待遇变更调查",
    VisitOutcome.TEMPORARY_AID: "转办临时救助",
    VisitOutcome.CLOSED: "核实后办结",
}


class WarningStatus(StrEnum):
    """Where a warning stands (stored in ``case_record.status``): waiting for the home visit,
    then the visit's outcome."""

    AWAITING_VISIT = "awaiting_visit"
    APPLICATION_OFFERED = "application_offered"
    CHANGE_INVESTIGATION = "change_investigation"
    TEMPORARY_AID = "temporary_aid"
    CLOSED = "closed"


# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
STATUS_LABELS_ZH: dict[WarningStatus, str] = {
    WarningStatus.AWAITING_VISIT: "待入户核实",
    WarningStatus.APPLICATION_OFFERED: "已告知申请救助",
    WarningStatus.CHANGE_INVESTIGATION: "待遇变更调查中",
    WarningStatus.TEMPORARY_AID: "已转临时救助",
    WarningStatus.CLOSED: "已办结",
}
