"""What an entitlement's read-model write means for its village's long-term public listing
(长期公示, 低保办法 Art. 23–24): whether the household comes onto it, changes on it or leaves it,
and the announcement to the village's ``ListingPostingWorkflow`` (signal-with-start).

The listing shows the 低保/特困 households being paid (``activities/monitoring/listing.py``):
its lines are the head's name, the members paid, the programme and the monthly amount."""

from datetime import date
from decimal import Decimal

from temporalio.client import Client

from activities.entitlements.models import month_of_index
from workflows.entitlements.contract import PAYING_STATUSES
from workflows.listings.contract import (
    LISTING_CHANGED,
    LISTING_WORKFLOW_TYPE,
    ChangeKind,
    ListingChange,
    ListingStart,
    listing_workflow_id,
)

LISTED_PROGRAMMES = ("dibao", "tekun")
_PAYING = {s.value for s in PAYING_STATUSES}

ListingLine = tuple[str, int, str, str, int | None]  # name, members, programme, amount, end


def listing_line(
    *,
    programme: str,
    status: str,
    payable_amount: object,
    members_paid: int,
    payee_name: str,
    end_month: int | None,
) -> ListingLine | None:
    """The household's line on the listing as this row has it (``None``: not listed)."""
    if programme not in LISTED_PROGRAMMES or status not in _PAYING:
        return None
    if Decimal(str(payable_amount or 0)) <= 0:
        return None
    return (payee_name, members_paid, programme, f"{payable_amount}", end_month)


def change_of(before: ListingLine | None, after: ListingLine | None) -> ChangeKind | None:
    """START (onto the listing), END (off it, or a last month set), CHANGE (another line), or
    ``None`` (the board stays as it is)."""
    if before == after:
        return None
    if before is None:
        return ChangeKind.START
    if after is None or (after[4] is not None and before[4] is None):
        return ChangeKind.END
    return ChangeKind.CHANGE


def effective_on(kind: ChangeKind, today: date, start_month: int, end_month: int | None) -> date:
    """The day the board should change (Beijing): a household comes onto the listing from its
    first paid month, leaves it after its last; anything else changes it today. Months are
    ``month_index`` (year × 12 + month − 1)."""
    if kind is ChangeKind.START:
        return max(today, month_of_index(start_month))
    if kind is ChangeKind.END and end_month is not None:
        return max(today, month_of_index(end_month + 1))
    return today


async def announce(
    client: Client, task_queue: str, village_code: str, case_id: str, kind: ChangeKind, on: date
) -> None:
    """Tell the village's posting workflow, starting it if the village has none yet."""
    await client.start_workflow(
        LISTING_WORKFLOW_TYPE,
        ListingStart(village_code=village_code),
        id=listing_workflow_id(village_code),
        task_queue=task_queue,
        start_signal=LISTING_CHANGED,
        start_signal_args=[ListingChange(case_id=case_id, kind=kind, on=on)],
    )
