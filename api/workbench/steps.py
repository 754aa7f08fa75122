"""The steps an officer may take on a case now, read from the API and the domain: no second set
of rules.

- The steps themselves are the case API's step routes (``api/routes/applications.py``,
  ``api/routes/temporary.py``, ``api/routes/entitlements.py``): path ``/{id}/<slug>``, body
  model and summary are read off the router, and a posted form is handed to the same route
  function the JSON API runs (same checks, same Idempotency-Key).
- Which of them the officer may take now is asked of the domain's own pure step checks
  (``workflows/applications/checks.py::StepChecks``, ``workflows/temporary/checks.py``,
  ``workflows/entitlements/checks.py``) against
  the case state (and, for an application, the policy it runs under): a step whose check
  refuses the officer's role or area (403) or the case's state (409) is not offered; one that
  only lacks the form's data is. A check that branches on a yes/no of the form is asked both
  ways."""

import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine

from api.deps import current_officer
from api.routes.applications import router as applications_router
from api.routes.entitlements import router as entitlements_router
from api.routes.temporary import router as temporary_router
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, CaseKind
from jiuzhu.policy_store import policy_in_force
from jiuzhu.refusals import RefusalKind, refusal_of
from rules.policy import Policy
from workflows.applications.checks import StepChecks
from workflows.applications.models import ApplicationState
from workflows.entitlements import checks as entitlement_checks
from workflows.temporary import checks as temporary_checks
from workflows.temporary.contract import JUSTIFICATION_DEADLINE
from workflows.temporary.models import TemporaryCaseState

NOT_OFFERED = (RefusalKind.FORBIDDEN, RefusalKind.WRONG_STATE, RefusalKind.NOT_FOUND)


@dataclass(frozen=True)
class CaseMoment:
    """What a check is asked against: the live state, the application's policy, the clock."""

    state: Any
    policy: Policy | None
    today: date
    now: datetime


# A step's check, given the moment and the input it takes (the officer and no data yet).
Check = Callable[[CaseMoment, Any], None]


Guard = Callable[[Actor], Awaitable[Any]]


def route_guard(endpoint: Callable[..., Any]) -> Guard | None:
    """The role dependency a route puts on its officer (``actor: Annotated[Actor,
    Depends(require_roles(...))]``): the workbench awaits it with the signed-in officer, so a
    page admits exactly whom the API admits (403 ``HTTPException`` otherwise). None where the
    route takes any signed-in officer."""
    hint = typing.get_type_hints(endpoint, include_extras=True).get("actor")
    for meta in typing.get_args(hint)[1:]:
        dependency = getattr(meta, "dependency", None)
        if dependency is not None and dependency is not current_officer:
            guard: Guard = dependency
            return guard
    return None


@dataclass(frozen=True)
class StepForm:
    slug: str  # the API path's last segment, e.g. ``initial-opinion``
    title: str  # the route's summary or docstring's first words, e.g. ``初审``
    body: type[BaseModel]  # the API's body model of the step
    endpoint: Callable[..., Awaitable[Any]]  # the API's route function
    id_param: str  # the route's case id parameter (``application_id``, ``case_id``)
    command: type[BaseModel]  # what the check takes (body + actor)
    check: Check
    guard: Guard | None  # the route's role dependency, if any


def _application_check(name: str) -> tuple[type[BaseModel], Check]:
    method = getattr(StepChecks, name)
    command: type[BaseModel] = typing.get_type_hints(method)["inp"]

    def check(m: CaseMoment, inp: Any) -> None:
        getattr(StepChecks(state=m.state, policy=m.policy, today=m.today), name)(inp)

    return command, check


def _justification_due(state: TemporaryCaseState) -> datetime | None:
    due = [d.due_at for d in state.deadlines if d.name == JUSTIFICATION_DEADLINE]
    return due[-1] if due else None


def _function_check(module: Any, name: str) -> tuple[type[BaseModel], Check]:
    """A check written as a function ``(state, <command>, [today], [now], …)``."""
    fn = getattr(module, name)
    hints = typing.get_type_hints(fn)
    command: type[BaseModel] = next(
        tp
        for key, tp in hints.items()
        if key not in ("state", "return") and isinstance(tp, type) and issubclass(tp, BaseModel)
    )

    def check(m: CaseMoment, cmd: Any) -> None:
        extra: dict[str, Any] = {}
        if "today" in hints:
            extra["today"] = m.today
        if "now" in hints:
            extra["now"] = m.now
        if "justification_due" in hints:
            extra["justification_due"] = _justification_due(m.state)
        fn(m.state, cmd, **extra)

    return command, check


def _temporary_check(name: str) -> tuple[type[BaseModel], Check]:
    return _function_check(temporary_checks, name)


def _entitlement_check(name: str) -> tuple[type[BaseModel], Check]:
    return _function_check(entitlement_checks, name)


# The API path's last segment → its check (the two vocabularies differ only in spelling; the
# rule itself is the check's).
APPLICATION_CHECKS: dict[str, str] = {
    "accept": "accept",
    "missing-documents": "request_documents",
    "supplement": "supplement",
    "investigation": "investigation",
    "verification-objection": "verification_objection",
    "appraisal": "appraisal",
    "initial-opinion": "opinion",
    "publicity-objection": "publicity_objection",
    "county-visit": "county_visit",
    "special-deadline": "extend",
    "decision": "decide",
    "filing": "filing",
    "deliver-notice": "delivery",
    "edge-consent": "edge_consent",
    "withdraw": "withdraw",
    "end-review": "end_review",
}
TEMPORARY_CHECKS: dict[str, str] = {
    "prepayment": "check_grant",
    "justification": "check_justification",
    "justification-review": "check_review",
    "recoveries": "check_recovery",
    "referral": "check_referral",
    "special-decision": "check_special",
    "close": "check_close",
}
ENTITLEMENT_CHECKS: dict[str, str] = {
    "changes": "check_report_change",
    "review-outcome": "check_review_outcome",
    "self-care-assessments": "check_self_care_assessment",
    "work-refusals": "check_work_refusal",
    "move-outs": "check_move_out",
}


def _title(route: APIRoute, slug: str) -> str:
    """The route's summary without the roles in brackets: ``初审 (township officer)`` → 初审."""
    return (route.summary or slug).split(" (")[0]


def _steps(
    router: APIRouter,
    checks: dict[str, str],
    make: Callable[[str], tuple[type[BaseModel], Check]],
) -> dict[str, StepForm]:
    steps: dict[str, StepForm] = {}
    for route in router.routes:
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or set()):
            continue
        head, _, slug = route.path.removeprefix(router.prefix).rpartition("/")
        if not (head.startswith("/{") and head.endswith("}")) or slug not in checks:
            continue
        body = typing.get_type_hints(route.endpoint)["body"]
        command, check = make(checks[slug])
        steps[slug] = StepForm(
            slug,
            _title(route, slug),
            body,
            route.endpoint,
            head[2:-1],
            command,
            check,
            route_guard(route.endpoint),
        )
    return steps


STEPS: dict[CaseKind, dict[str, StepForm]] = {
    CaseKind.APPLICATION: _steps(applications_router, APPLICATION_CHECKS, _application_check),
    CaseKind.TEMPORARY: _steps(temporary_router, TEMPORARY_CHECKS, _temporary_check),
    CaseKind.ENTITLEMENT: _steps(entitlements_router, ENTITLEMENT_CHECKS, _entitlement_check),
}
APPLICATION_STEPS = STEPS[CaseKind.APPLICATION]


def case_policy(engine: Engine, settings: Any, state: ApplicationState) -> Policy | None:
    """The policy an application runs under: the one in force in its area on its acceptance
    day, as the workflow fetched it (None before acceptance or when none is in force)."""
    if state.accepted_on is None:
        return None
    try:
        return policy_in_force(engine, settings.policies_dir, state.area_code, state.accepted_on)
    except Exception:  # a missing or conflicting policy: the step's own check will say so
        return None


def _probes(command: type[BaseModel], actor: Actor) -> list[BaseModel]:
    """The check's input with the officer and no data: required choices take their first value
    so that checks which branch on them reach their role and state checks; required yes/no
    questions are asked both ways."""
    values: dict[str, Any] = {"actor": actor}
    flags: list[str] = []
    for name, info in command.model_fields.items():
        if name == "actor" or not info.is_required():
            continue
        tp = info.annotation
        if isinstance(tp, type) and issubclass(tp, Enum):
            values[name] = next(iter(tp))
        elif tp is bool:
            flags.append(name)
    return [
        command.model_construct(None, **values, **dict.fromkeys(flags, answer))
        for answer in ((True, False) if flags else (True,))
    ]


async def admitted(guard: Guard | None, actor: Actor) -> bool:
    """Whether the route's role dependency admits ``actor`` (always, without one)."""
    if guard is None:
        return True
    try:
        await guard(actor)
    except HTTPException:
        return False
    return True


async def offered(
    kind: CaseKind,
    state: Any,
    actor: Actor,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> list[StepForm]:
    """The steps ``actor`` may take on the case now, in the API's order."""
    moment = CaseMoment(
        state=state, policy=policy, today=beijing_today(), now=now or datetime.now(UTC)
    )
    out = []
    for step in STEPS.get(kind, {}).values():
        if not await admitted(step.guard, actor):
            continue
        for probe in _probes(step.command, actor):
            try:
                step.check(moment, probe)
            except Exception as exc:  # only a refusal of role, area or state hides the step
                refusal = refusal_of(exc)
                if refusal is not None and refusal.kind in NOT_OFFERED:
                    continue
            out.append(step)
            break
    return out
