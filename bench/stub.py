"""The entitlement's stand-in for the application benchmark: the approved case's child,
finishing at once, so the benchmark measures the application alone. A module of its own, so
that the child's sandbox executes nothing but this class (the application's and the bare
workflow's children alike)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.entitlements.contract import ApprovedCase


@workflow.defn(name="EntitlementWorkflow")
class EntitlementStub:
    """Stands in for the entitlement so the benchmark measures the application alone."""

    @workflow.run
    async def run(self, case: ApprovedCase) -> None:
        return None
