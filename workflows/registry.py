"""Every workflow type the worker runs (one line per capability)."""

from typing import Any

from workflows.application import ApplicationWorkflow

WORKFLOWS: list[type[Any]] = [
    ApplicationWorkflow,
]
