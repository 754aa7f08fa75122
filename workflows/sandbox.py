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
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from importlib.util import spec_from_file_location
from types import CodeType, ModuleType
from typing import Any, cast

from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker._workflow_instance import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._in_sandbox import InSandbox
from temporalio.worker.workflow_sandbox._runner import _Instance

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


_SANDBOX_CODE: dict[str, CodeType] = {}


class _CompiledCallsInstance(_Instance):
    """The SDK's sandboxed instance, with its calls into the sandbox made cheaper.

    temporalio 1.35 enters the sandbox by ``exec`` of a short source string under the sandbox's
    import hooks: once per activation and, through the payload visitor, once for every payload
    sequence of an activation and of its completion (six passes), only to look up which
    serialization context a payload belongs to. Compiling those strings again on every call,
    and swapping the builtins' import hooks in and out around each lookup, took a quarter of
    the worker's interpreter time (py-spy, ``bench.applications``). Here:

    - every string is compiled once (they are the SDK's own constants) and executed in the
      same sandbox globals exactly as before;
    - the two context lookups call the instance in the sandbox directly: they read the
      workflow's info and its pending commands, import nothing and run no workflow code.

    This subclasses the SDK's private ``_Instance``: it holds because temporalio is pinned
    (1.35.0, pyproject.toml), and ``tests/test_sandbox.py`` checks that the lookups answer what
    the SDK's own instance does, so an upgrade that changes them fails there first."""

    def _run_code(self, code: str, **extra_globals: Any) -> None:
        compiled = _SANDBOX_CODE.get(code)
        if compiled is None:
            compiled = _SANDBOX_CODE[code] = compile(code, "workflow_sandbox.py", "exec")
        super()._run_code(compiled, **extra_globals)  # type: ignore[arg-type]  # exec takes code

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> SerializationContext | None:
        return self._in_sandbox().get_serialization_context(command_info)

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        return self._in_sandbox().get_external_store_context(command_info)

    def _in_sandbox(self) -> InSandbox:
        return cast(InSandbox, self.globals_and_locals["__temporal_in_sandbox"])


@dataclass(frozen=True)
class _Runner(SandboxedWorkflowRunner):
    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledCallsInstance(det, self.runner_class, self.restrictions)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The runner of the worker. The project's modules are compiled once per process
    (``_CompiledModules``) and the sandbox executes that code for every run."""
    if _compiled not in sys.meta_path:
        sys.meta_path.insert(0, _compiled)
    return _Runner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
