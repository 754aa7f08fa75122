"""The amount an entitlement pays (pure): the household amount split in equal shares over its
members, shares that are not active removed (death, work refusal: 低保办法 Art. 34)."""

from decimal import ROUND_HALF_UP, Decimal

from workflows.entitlements.contract import EntitlementStatus, ShareStatus
from workflows.entitlements.models import EntitlementState

CENT = Decimal("0.01")


def share_amount(state: EntitlementState, household_amount: Decimal) -> Decimal:
    """``household_amount`` × active shares / all shares, to the cent (half up)."""
    total = len(state.members)
    active = sum(1 for m in state.members if m.status is ShareStatus.ACTIVE)
    if total == 0 or active == 0:
        return Decimal("0.00")
    return (household_amount * active / total).quantize(CENT, rounding=ROUND_HALF_UP)


def recompute_payable(state: EntitlementState) -> None:
    """Shares changed: the amount paid now (and any adjusted amount to come) follow; nothing
    left to pay suspends an active entitlement until the review decides."""
    state.payable_amount = share_amount(state, state.monthly_amount)
    if state.next_amount is not None:
        state.next_amount = share_amount(state, state.next_monthly_amount or state.monthly_amount)
    if state.payable_amount == 0 and state.status is EntitlementStatus.ACTIVE:
        state.status = EntitlementStatus.SUSPENDED


def fold_next_amount(state: EntitlementState) -> None:
    """The month of an adjusted amount came: it becomes the amount in force."""
    if state.next_monthly_amount is not None:
        state.monthly_amount = state.next_monthly_amount
    if state.next_amount is not None:
        state.payable_amount = state.next_amount
    state.next_amount = None
    state.next_monthly_amount = None
    state.next_amount_from = None
