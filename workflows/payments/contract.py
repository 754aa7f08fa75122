"""The payments domain's contract, imported by the API, the worker, the schedules and the
activities: workflow type names and ids, schedule ids, and the statuses and kinds of payment
instructions (the ``payment_instruction`` table, DOMAIN §5).

Pure (no I/O, no workflow classes)."""

from datetime import date
from enum import StrEnum

PAYROLL_WORKFLOW_TYPE = "PayrollWorkflow"
CAMPAIGN_WORKFLOW_TYPE = "CampaignWorkflow"
DAILY_BATCH_WORKFLOW_TYPE = "DailyBankBatchWorkflow"


def payroll_workflow_id(county_code: str, year: int, month: int) -> str:
    """One payroll per county (6 digits) and month: ``payroll-410881-2027-02``."""
    return f"payroll-{county_code}-{year:04d}-{month:02d}"


def payroll_schedule_id(county_code: str) -> str:
    """The county's monthly payroll Schedule of earlier releases (deleted at worker start-up:
    months now start ahead, ``jiuzhu.schedules.start_month``)."""
    return f"payroll-schedule-{county_code}"


def campaign_workflow_id(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def daily_batch_id(county_code: str, value_date: date) -> str:
    """One daily bank batch of temporary assistance per county and value date (also its
    workflow id): ``bank-daily-410881-20270215``."""
    return f"bank-daily-{county_code}-{value_date:%Y%m%d}"


def daily_batch_schedule_id(county_code: str) -> str:
    """The county's daily Temporal Schedule that starts its bank batch of temporary aid."""
    return f"bank-daily-schedule-{county_code}"


class PaymentKind(StrEnum):
    """What an instruction pays (stored as these exact strings)."""

    PAYROLL = "payroll"  # the monthly 低保/特困 payment of an entitlement
    CAMPAIGN = "campaign"  # a one-off subsidy (一次性生活补贴)
    PREPAYMENT = "prepayment"  # temporary aid paid first from the township reserve fund
    TEMPORARY = "temporary"  # temporary aid paid by the county
    STAGED = "staged"  # a later stage of temporary aid paid in instalments


class PaymentStatus(StrEnum):
    """Where an instruction stands (stored as these exact strings).

    ``pending`` → ``sent`` (in a bank file) → ``paid``, or ``failed`` with the bank's reason
    (queued again by the next payroll), or ``flagged`` once it failed ``MAX_PAYMENT_ATTEMPTS``
    times (manual handling); ``cancelled`` is never paid; ``held`` is a line that cannot be
    written into a bank file (a field breaks the file format, reason in ``failure_reason``):
    kept out of the file, so the rest of the batch is paid, for manual correction."""

    PENDING = "pending"
    SENT = "sent"
    PAID = "paid"
    FAILED = "failed"
    FLAGGED = "flagged"
    CANCELLED = "cancelled"
    HELD = "held"


# An instruction in one of these states is still owed to the bank file of its batch.
UNANSWERED = (PaymentStatus.PENDING, PaymentStatus.SENT)


class PayrollStatus(StrEnum):
    STARTED = "started"
    LAUNCHED = "launched"  # a scheduled run that started the month's payroll and ended
    COMPILING = "compiling"
    AWAITING_FUNDING = "awaiting_funding"
    SENDING = "sending"
    RECONCILING = "reconciling"
    RECONCILED = "reconciled"
    NOTHING_TO_PAY = "nothing_to_pay"
    BANK_ERROR = "bank_error"  # the bank's answer was malformed: escalated to finance


# A month in one of these states has a compiled list (it may have moved money): its record is
# never overwritten by a re-run, a backfill or a schedule catch-up.
PAYROLL_SETTLED = (
    PayrollStatus.AWAITING_FUNDING,
    PayrollStatus.SENDING,
    PayrollStatus.RECONCILING,
    PayrollStatus.RECONCILED,
    PayrollStatus.BANK_ERROR,
)


class CampaignStatus(StrEnum):
    STARTED = "started"
    AWAITING_FUNDING = "awaiting_funding"
    SENDING = "sending"
    RECONCILED = "reconciled"
    NOTHING_TO_PAY = "nothing_to_pay"
    BANK_ERROR = "bank_error"  # the bank's answer was malformed: escalated to finance


# The instruction kinds the daily bank batch pays (temporary assistance: prepayments from the
# reserve fund, county-funded awards and 一事一议 stages); payroll and campaign lines are paid by
# their own batches.
DAILY_BATCH_KINDS = (PaymentKind.PREPAYMENT, PaymentKind.TEMPORARY, PaymentKind.STAGED)


class DailyBatchStatus(StrEnum):
    STARTED = "started"
    LAUNCHED = "launched"  # a scheduled run that started the day's batch and ended
    SENDING = "sending"
    RECONCILED = "reconciled"
    NOTHING_TO_PAY = "nothing_to_pay"
    BANK_ERROR = "bank_error"  # the bank's answer was malformed: escalated to finance


# A daily batch in one of these states has lines assigned and may have moved money: its
# record is never overwritten, a later run of the same batch id returns it as it stands.
DAILY_BATCH_SETTLED = (
    DailyBatchStatus.SENDING,
    DailyBatchStatus.RECONCILED,
    DailyBatchStatus.BANK_ERROR,
)


# Names of the messages the payroll workflow takes (kept as they were).
CONFIRM_FUNDING = "confirm_funding"
GET_STATE = "get_state"
# Finance re-sends a campaign whose bank answer could not be read (only from bank_error).
RESUBMIT = "resubmit"
# Signal-with-start of a month's payroll by a trigger or backfill: a month waiting for its 1st
# (started ahead with a start delay) starts at once; a running one ignores it.
START_NOW = "start_now"


# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
PAYROLL_STATUS_LABELS_ZH: dict[PayrollStatus, str] = {
    PayrollStatus.STARTED: "已启动",
    PayrollStatus.LAUNCHED: "已按计划启动当月发放",
    PayrollStatus.COMPILING: "编制发放名单中",
    PayrollStatus.AWAITING_FUNDING: "待财政拨付资金",
    PayrollStatus.SENDING: "银行代发中",
    PayrollStatus.RECONCILING: "银行回盘对账中",
    PayrollStatus.RECONCILED: "已发放并对账",
    PayrollStatus.NOTHING_TO_PAY: "本月无应发",
    PayrollStatus.BANK_ERROR: "银行回盘异常，待财政处理",
}
CAMPAIGN_STATUS_LABELS_ZH: dict[CampaignStatus, str] = {
    CampaignStatus.STARTED: "已启动",
    CampaignStatus.AWAITING_FUNDING: "待财政拨付资金",
    CampaignStatus.SENDING: "银行代发中",
    CampaignStatus.RECONCILED: "已发放并对账",
    CampaignStatus.NOTHING_TO_PAY: "无应发对象",
    CampaignStatus.BANK_ERROR: "银行回盘异常，待财政处理",
}
DAILY_BATCH_STATUS_LABELS_ZH: dict[DailyBatchStatus, str] = {
    DailyBatchStatus.STARTED: "已启动",
    DailyBatchStatus.LAUNCHED: "已按计划启动当日批次",
    DailyBatchStatus.SENDING: "银行代发中",
    DailyBatchStatus.RECONCILED: "已发放并对账",
    DailyBatchStatus.NOTHING_TO_PAY: "当日无应发",
    DailyBatchStatus.BANK_ERROR: "银行回盘异常，待财政处理",
}
