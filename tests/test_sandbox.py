"""The workflow sandbox (``workflows/sandbox.py``): workflow code stays sandboxed, and the
project's modules are compiled once while every run still executes them afresh."""

import importlib
import importlib.util
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import CommandType
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter, WorkflowSerializationContext
from temporalio.worker import WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _fake_info

from workflows import sandbox
from workflows.applications.workflow import ApplicationWorkflow
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


def _details(defn: Any) -> WorkflowInstanceDetails:
    return WorkflowInstanceDetails(
        payload_converter_factory=DataConverter.default._new_payload_converter,
        failure_converter_class=DataConverter.default.failure_converter_class,
        interceptor_classes=[],
        defn=defn,
        info=_fake_info,
        randomness_seed=-1,
        extern_functions={},
        disable_eager_activity_execution=False,
        worker_level_failure_exception_types=[],
        patch_activation_callback=None,
        last_completion_result=Payloads(),
        last_failure=Failure(),
    )


async def test_the_runner_answers_serialization_contexts_as_the_sdks_sandbox_does() -> None:
    """The worker's instance looks the contexts up without entering the sandbox by ``exec``
    (``_CompiledCallsInstance``); its answers are the SDK's own."""
    runner = workflow_runner()
    details = _details(workflow._Definition.must_from_class(ApplicationWorkflow))
    ours = runner.create_instance(details)
    sdks = SandboxedWorkflowRunner(restrictions=runner.restrictions).create_instance(details)
    assert type(ours) is not type(sdks)
    activity = CommandInfo(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, 1)
    child = CommandInfo(CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, 1)
    for info in (None, activity, child):
        assert ours.get_serialization_context(info) == sdks.get_serialization_context(info)
        assert ours.get_external_store_context(info) == sdks.get_external_store_context(info)
    assert ours.get_serialization_context(None) == WorkflowSerializationContext(
        namespace=_fake_info.namespace, workflow_id=_fake_info.workflow_id
    )
