"""The workflow sandbox of the worker (and of replay tests).

The sandbox re-imports a workflow's modules for every run so that workflow code cannot keep
state between runs or reach non-deterministic calls. Pure, deterministic modules — the rules
package, payload models, contracts, pure step checks — gain nothing from that and cost the most
to re-import, so they are passed through **by name**; workflow code itself (the workflow
classes, their steps, the deadline book, the timer and the publisher) stays sandboxed and
guarded. Never ``with_passthrough_all_modules``: that would also let ``datetime.now()`` through
in workflow code."""

import sys

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH_MODULES: tuple[str, ...] = (
    # third-party libraries used only for their (immutable) models and types
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    # the pure statute
    "rules",
    # kernel contracts and payloads (no I/O, no workflow calls)
    "jiuzhu.contract",
    "jiuzhu.records",
    "jiuzhu.refusals",
    "jiuzhu.areas",
    "jiuzhu.clock",
    "jiuzhu.console",
    # activities are referenced for their names and payload models
    "activities",
    # each domain's contract, models and pure checks
    "workflows.applications.contract",
    "workflows.applications.models",
    "workflows.applications.checks",
    "workflows.applications.rules",
    "workflows.applications.notices",
    "workflows.applications.snapshot",
    "workflows.entitlements.contract",
    "workflows.entitlements.models",
    "workflows.entitlements.checks",
    "workflows.entitlements.amounts",
    "workflows.entitlements.snapshots",
    "workflows.payments.contract",
    "workflows.payments.models",
    "workflows.payments.checks",
    "workflows.temporary.contract",
    "workflows.temporary.models",
    "workflows.temporary.checks",
    "workflows.temporary.rules",
    "workflows.deadlines.contract",
    "workflows.recoveries.contract",
    "workflows.recoveries.models",
    "workflows.recoveries.checks",
    "workflows.supervision.contract",
    "workflows.supervision.models",
    "workflows.supervision.checks",
    "workflows.supervision.sampling",
    "workflows.monitoring.contract",
    "workflows.monitoring.models",
    "workflows.monitoring.checks",
    "workflows.monitoring.rules",
    "workflows.referrals.contract",
    "workflows.referrals.models",
    "workflows.referrals.checks",
    "workflows.recognitions.contract",
    "workflows.recognitions.models",
    "workflows.recognitions.checks",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The runner of the worker. It also lets Python keep compiled bytecode of the modules the
    sandbox re-imports: with ``PYTHONDONTWRITEBYTECODE`` set (as on these machines) every
    workflow run would otherwise compile its workflow modules from source again."""
    sys.dont_write_bytecode = False
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
