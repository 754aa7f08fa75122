"""The supervision domain's contract, imported by the API, the worker and the activities: the
workflow types of the monthly spot check (抽查) and of a complaint (投诉举报), their ids,
statuses and message names, the complaint vocabularies. Pure (no I/O, no workflow classes)."""

from enum import StrEnum

SPOT_CHECK_WORKFLOW_TYPE = "SpotCheckRoundWorkflow"
COMPLAINT_WORKFLOW_TYPE = "ComplaintWorkflow"

# Message names (stable, so running cases keep taking them).
RECORD_SPOT_CHECK = "record_spot_check"
RECORD_FINDINGS = "record_findings"
RECORD_REPLY = "record_reply"
RECORD_FOLLOW_UP = "record_follow_up"
GET_STATE = "get_state"

# Deadline names: one per sampled case (``spot_check:<case id>``), one per complaint round.
SPOT_CHECK_DEADLINE_PREFIX = "spot_check:"
COMPLAINT_REPLY_DEADLINE = "complaint_reply"
# The complaint's own wake-up: the end of the complainant's follow-up window.
FOLLOW_UP_WINDOW = "follow_up_window"

# Programmes whose decisions the county samples: 低保 and 特困 审核确认 (焦民〔2022〕154号 第五条:
# "对乡镇（街道）审核确认（含申请未通过）的救助对象…进行抽查").
SAMPLED_PROGRAMMES = ("dibao", "tekun")


def spot_check_id(county_code: str, period: str) -> str:
    """One round per county and month decided: ``spot-check-<county>-<YYYY-MM>``."""
    return f"spot-check-{county_code}-{period}"


def spot_check_schedule_id(county_code: str) -> str:
    """The county's monthly schedule that launches the previous month's round."""
    return f"spot-check-schedule-{county_code}"


def spot_check_deadline(case_id: str) -> str:
    return f"{SPOT_CHECK_DEADLINE_PREFIX}{case_id}"


def reopened_application_id(application_id: str) -> str:
    """The new application that re-decides a refusal reversed by the spot check."""
    return f"{application_id}-SC"


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


class SpotCheckStatus(StrEnum):
    """A round: ``open`` while a sampled case is unchecked, ``completed`` when all are."""

    OPEN = "open"
    COMPLETED = "completed"


class SampledOutcome(StrEnum):
    """The decision sampled (审核确认: approval, or refusal — 申请未通过)."""

    APPROVE = "approve"
    REFUSE = "refuse"


class CheckOutcome(StrEnum):
    """What the county found: the decision confirmed, or reversed (the case re-opens)."""

    CONFIRMED = "confirmed"
    REVERSED = "reversed"


class TaskStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REVERSED = "reversed"


class ComplaintStatus(StrEnum):
    INVESTIGATING = "investigating"  # routed; findings and reply due
    REPLIED = "replied"  # reply delivered; the complainant's follow-up window runs
    CLOSED = "closed"


# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
SPOT_CHECK_STATUS_LABELS_ZH: dict[SpotCheckStatus, str] = {
    SpotCheckStatus.OPEN: "抽查进行中",
    SpotCheckStatus.COMPLETED: "抽查已完成",
}
COMPLAINT_STATUS_LABELS_ZH: dict[ComplaintStatus, str] = {
    ComplaintStatus.INVESTIGATING: "调查处理中",
    ComplaintStatus.REPLIED: "已答复，待回访",
    ComplaintStatus.CLOSED: "已办结",
}


class ComplaintChannel(StrEnum):
    """How the complaint came in (焦民〔2022〕154号 第十二条: 投诉举报电话, 群众举报)."""

    HOTLINE = "hotline"  # 投诉举报电话 / 12345
    LETTER = "letter"  # 来信
    VISIT = "visit"  # 来访
    ONLINE = "online"  # 网上信访
    REFERRED = "referred"  # 上级交办或部门转办


class ComplaintCategory(StrEnum):
    """What it is about (焦民〔2022〕154号 第十二条 一至五)."""

    FAVOURITISM = "favouritism"  # 人情保、关系保
    EMBEZZLEMENT = "embezzlement"  # 贪污侵占、虚报冒领
    MISCONDUCT = "misconduct"  # 吃拿卡要、暗箱操作
    MISSED = "missed"  # 脱保、漏保、不受理
    SERVICE = "service"  # 推诿、拖延、刁难
    PAYMENT = "payment"  # 救助金未按时足额发放
    OTHER = "other"


CATEGORY_NAMES_ZH: dict[ComplaintCategory, str] = {
    ComplaintCategory.FAVOURITISM: "人情保、关系保",
    ComplaintCategory.EMBEZZLEMENT: "贪污侵占、虚报冒领",
    ComplaintCategory.MISCONDUCT: "吃拿卡要、暗箱操作",
    ComplaintCategory.MISSED: "脱保、漏保或申请不受理",
    ComplaintCategory.SERVICE: "推诿、拖延、刁难",
    ComplaintCategory.PAYMENT: "救助金未按时足额发放",
    ComplaintCategory.OTHER: "其他",
}


class ResponsibleLevel(StrEnum):
    TOWNSHIP = "township"
    COUNTY = "county"


class DeliveryChannel(StrEnum):
    """How the reply reached the complainant; an anonymous complaint is answered on the record
    only (``on_record``)."""

    PHONE = "phone"
    LETTER = "letter"
    IN_PERSON = "in_person"
    SMS = "sms"
    ON_RECORD = "on_record"
