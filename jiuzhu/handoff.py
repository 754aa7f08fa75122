"""TRANSITION shim: the hand-off model moved to ``workflows/entitlements/contract.py`` (import it
from there); kept so other domains' imports keep working until the lead removes it."""

from workflows.entitlements.contract import (
    ENTITLEMENT_WORKFLOW_TYPE,
    ApprovedCase,
    CardAccount,
)

__all__ = ["ENTITLEMENT_WORKFLOW_TYPE", "ApprovedCase", "CardAccount"]
