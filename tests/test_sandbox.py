"""The workflow sandbox (``workflows/sandbox.py``): workflow code stays sandboxed, and the
project's modules are compiled once while every run still executes them afresh."""

import importlib
import importlib.util

from workflows import sandbox
from workflows.sandbox import PASSTHROUGH_MODULES, PROJECT_PACKAGES, workflow_runner

# Modules holding workflow code: re-imported for every run, under the sandbox's guard.
WORKFLOW_CODE = (
    "workflows.applications.workflow",
    "workflows.applications.case",
    "workflows.applications.steps.intake",
    "workflows.applications.steps.decision",
    "workflows.entitlements.workflow",
    "workflows.temporary.workflow",
    "workflows.payments.payroll",
    "workflows.deadlines.book",
    "jiuzhu.publishing",
    "jiuzhu.timers",
)


def _passed_through(name: str) -> bool:
    parts = name.split(".")
    return any(".".join(parts[:i]) in PASSTHROUGH_MODULES for i in range(1, len(parts) + 1))


def test_workflow_code_is_never_passed_through() -> None:
    for name in WORKFLOW_CODE:
        assert importlib.util.find_spec(name) is not None, name
        assert not _passed_through(name), f"{name} would escape the sandbox's guard"


def test_project_modules_are_compiled_once_and_executed_afresh() -> None:
    workflow_runner()  # installs the finder
    name = "workflows.applications.case"
    path = importlib.import_module("workflows.applications").__path__
    first = sandbox._compiled.find_spec(name, path)
    second = sandbox._compiled.find_spec(name, path)
    assert first is not None and second is not None
    assert first.origin is not None and first.origin.endswith("workflows/applications/case.py")
    assert first.loader.code is second.loader.code  # type: ignore[union-attr]
    one = importlib.util.module_from_spec(first)
    two = importlib.util.module_from_spec(second)
    first.loader.exec_module(one)  # type: ignore[union-attr]
    second.loader.exec_module(two)  # type: ignore[union-attr]
    assert one.ApplicationCase is not two.ApplicationCase  # no state shared between runs


def test_other_modules_keep_the_usual_machinery() -> None:
    assert "tests" not in PROJECT_PACKAGES
    assert sandbox._compiled.find_spec("json", None) is None
    assert sandbox._compiled.find_spec("tests.factories", None) is None
