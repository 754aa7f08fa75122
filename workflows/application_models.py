"""TRANSITION shim: the application payloads moved to ``workflows/applications/models.py`` and
``workflows/applications/contract.py`` (import them from there); kept so other domains' imports
work until the lead removes it."""

from workflows.applications.contract import (  # noqa: F401
    CLOSED_STATUSES,
    ApplicantMember,
    ApplicationStatus,
)
from workflows.applications.models import *  # noqa: F403
from workflows.applications.models import TimelineEntry  # noqa: F401
