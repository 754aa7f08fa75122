"""The overpayment-recovery domain's contract, imported by the API, the worker and the
activities: the workflow type, the receivable's ids, its causes, its statuses, the payer kinds and
the names of its messages. Pure (no I/O, no workflow classes)."""

from datetime import date
from enum import StrEnum

RECOVERY_WORKFLOW_TYPE = "OverpaymentRecoveryWorkflow"

# Names of the messages the recovery workflow takes.
RECORD_REPAYMENT = "record_repayment"
WRITE_OFF = "write_off"
GET_STATE = "get_state"

# The receivable's one deadline (policy ``overpayment_recovery``).
RECOVERY_DEADLINE = "overpayment_recovery"


def recovery_workflow_id(household_id: str, person_key: str) -> str:
    """One receivable per household and death: ``recovery-<household>-<person key>``, the
    person key being the deceased's blind index (``person_key``), never the ID number itself:
    workflow ids are visible to every operator of the Web UI."""
    return f"recovery-{household_id}-{person_key}"


def legacy_recovery_workflow_id(household_id: str, id_number: str) -> str:
    """The id receivables opened before 2026-11-30 carry (the ID number in clear): looked up
    so that a death recorded before then is never given a second receivable."""
    return f"recovery-{household_id}-{id_number}"


def ending_recovery_workflow_id(entitlement_id: str, effective_month: date) -> str:
    """One receivable per entitlement and ending: ``recovery-<entitlement>-ended-<YYYYMM>``,
    ``effective_month`` being the first month no longer payable (the month after the last
    payable one). The entitlement id is the opaque household id and the programme, so the id
    carries no personal data and a retry or a replay of the same ending finds it again."""
    return f"recovery-{entitlement_id}-ended-{effective_month:%Y%m}"


class RecoveryCause(StrEnum):
    """Why payments already made were not owed: a member died before the months they paid
    (the deceased's share), or the entitlement ended before them (the whole amount)."""

    DEATH = "death"
    ENDED = "ended"


class RecoveryStatus(StrEnum):
    """Where a receivable stands (stored in ``case_record.status``)."""

    OPEN = "open"  # balance outstanding (nothing or part recovered)
    RECOVERED = "recovered"  # recovered in full
    WRITTEN_OFF = "written_off"  # the rest written off by a recorded county decision


# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
STATUS_LABELS_ZH: dict[RecoveryStatus, str] = {
    RecoveryStatus.OPEN: "待追回",
    RecoveryStatus.RECOVERED: "已全额追回",
    RecoveryStatus.WRITTEN_OFF: "余额已核销",
}


class PayerKind(StrEnum):
    """Who repaid: the deceased's estate (遗产), a next of kin (近亲属), or the recipient of
    the household's payments (the payee)."""

    ESTATE = "estate"
    NEXT_OF_KIN = "next_of_kin"
    RECIPIENT = "recipient"


PAYER_NAMES_ZH: dict[PayerKind, str] = {
    PayerKind.ESTATE: "遗产",
    PayerKind.NEXT_OF_KIN: "近亲属",
    PayerKind.RECIPIENT: "领取人",
}
