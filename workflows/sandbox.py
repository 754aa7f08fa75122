"""The workflow sandbox of the worker (and of replay tests).

The sandbox re-imports a workflow's modules for every run so that workflow code cannot keep
state between runs or reach non-deterministic calls. Pure, deterministic modules — the rules
package, payload models, contracts, pure step checks — gain nothing from that and cost the most
to re-import, so they are passed through **by name**; workflow code itself (the workflow
classes, their steps, the deadline book, the timer and the publisher) stays sandboxed and
guarded. Never ``with_passthrough_all_modules``: that would also let ``datetime.now()`` through
in workflow code."""

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from importlib.util import spec_from_file_location
from types import CodeType, ModuleType

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


class _CompiledModules(importlib.abc.MetaPathFinder):
    """Finds this project's modules once and keeps their compiled code for the process.

    The sandbox must execute a workflow's modules afresh for every run, but it need not find,
    stat, read and unmarshal their files from disk every time: that was half of the cost of
    starting a sandboxed case (about 70 ``stat`` calls and 17 files read per run). The code
    object is immutable and is executed in a new module each time, exactly as a re-import
    would; a file edited while the worker runs is not picked up (nor should it be: a running
    worker replays with the code it started with)."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages
        self._found: dict[str, tuple[ModuleSpec, CodeType] | None] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages:
            return None
        if fullname not in self._found:
            self._found[fullname] = self._compile(fullname, path)
        found = self._found[fullname]
        if found is None:
            return None
        original, code = found
        assert original.origin is not None  # a source file (``_compile``)
        return spec_from_file_location(
            fullname,
            original.origin,
            loader=_CompiledSourceLoader(fullname, original.origin, code),
            submodule_search_locations=original.submodule_search_locations,
        )

    @staticmethod
    def _compile(fullname: str, path: Sequence[str] | None) -> tuple[ModuleSpec, CodeType] | None:
        spec = PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, SourceFileLoader):
            return None  # namespace packages, extensions: the usual machinery
        code = spec.loader.get_code(fullname)
        return (spec, code) if code is not None else None


class _CompiledSourceLoader(SourceFileLoader):
    """The usual loader of a source file (source, resources, file name), whose code is the one
    compiled when the module was first found."""

    def __init__(self, fullname: str, path: str, code: CodeType) -> None:
        super().__init__(fullname, path)
        self.code = code

    def get_code(self, fullname: str) -> CodeType:
        return self.code


PROJECT_PACKAGES = ("workflows", "jiuzhu", "activities", "rules", "bench")
_compiled = _CompiledModules(PROJECT_PACKAGES)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The runner of the worker. The project's modules are compiled once per process
    (``_CompiledModules``) and the sandbox executes that code for every run."""
    if _compiled not in sys.meta_path:
        sys.meta_path.insert(0, _compiled)
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
