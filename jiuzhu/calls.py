"""One way to call a short activity from workflow code.

Short, local work (a read-model write, a deadline computed from the calendar, the policy in
force, a notice rendered) runs as a **local activity** on new executions: one marker event in
history instead of three activity events and a workflow task. Executions recorded before
``light-history`` replay with regular activities, as they were recorded. Long or external work
(bank files, verification sources retried for hours, heartbeating steps) stays a regular
activity, called with ``workflow.execute_activity_method`` directly."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy

from jiuzhu.versions import Versions

R = TypeVar("R")

SHORT_TIMEOUT = timedelta(seconds=30)
_PLAIN = Versions()


@overload
async def call(
    activity: Callable[..., Awaitable[R]],
    arg: Any,
    *,
    timeout: timedelta = ...,  # noqa: ASYNC109
    retry_policy: RetryPolicy | None = ...,
) -> R: ...


@overload
async def call(
    activity: Callable[..., R],
    arg: Any,
    *,
    timeout: timedelta = ...,  # noqa: ASYNC109
    retry_policy: RetryPolicy | None = ...,
) -> R: ...


async def call(
    activity: Callable[..., Any],
    arg: Any,
    *,
    timeout: timedelta = SHORT_TIMEOUT,  # noqa: ASYNC109 (an activity timeout)
    retry_policy: RetryPolicy | None = None,
) -> Any:
    """Run ``activity`` (an ``@activity.defn`` method reference) with one argument. The path is
    asked through the running workflow's ``versions`` (a ``Versions``, whose baseline may
    answer it) when it has one."""
    versions = getattr(workflow.instance(), "versions", None)
    if (versions if isinstance(versions, Versions) else _PLAIN).light_history():
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=timeout,
            retry_policy=retry_policy,
        )
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=timeout,
        retry_policy=retry_policy,
    )
