"""The steps an officer may take on an application now, read from the API and the domain: no
second set of rules.

- The steps themselves are the case API's step routes (``api/routes/applications.py``): path
  ``/{application_id}/<slug>``, body model and summary are read off the router, and a posted form
  is handed to the same route function the JSON API runs (same checks, same Idempotency-Key).
- Which of them the officer may take now is asked of the domain's own pure step checks
  (``workflows/applications/checks.py::StepChecks``) against the case state and the policy it
  runs under: a step whose check refuses the officer's role or area (403) or the case's state
  (409) is not offered; one that only lacks the form's data is."""

import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine

from api.routes.applications import router as applications_router
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor
from jiuzhu.policy_store import policy_in_force
from jiuzhu.refusals import RefusalKind, refusal_of
from rules.policy import Policy
from workflows.applications.checks import StepChecks
from workflows.applications.models import ApplicationState

# The API path's last segment → the name of its check in ``StepChecks`` (the two vocabularies
# differ only in spelling; the rule itself is the check's).
CHECK_OF_STEP: dict[str, str] = {
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
NOT_OFFERED = (RefusalKind.FORBIDDEN, RefusalKind.WRONG_STATE, RefusalKind.NOT_FOUND)


@dataclass(frozen=True)
class StepForm:
    slug: str  # the API path's last segment, e.g. ``initial-opinion``
    title: str  # the route's summary, e.g. ``初审 (township officer)`` → ``初审``
    body: type[BaseModel]  # the API's body model of the step
    endpoint: Callable[..., Awaitable[Any]]  # the API's route function
    check: str  # its check in ``StepChecks``


def _application_steps() -> dict[str, StepForm]:
    steps: dict[str, StepForm] = {}
    for route in applications_router.routes:
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or set()):
            continue
        prefix, _, slug = route.path.removeprefix(applications_router.prefix).rpartition("/")
        if prefix != "/{application_id}" or slug not in CHECK_OF_STEP:
            continue
        body = typing.get_type_hints(route.endpoint)["body"]
        title = (route.summary or slug).split(" (")[0]
        steps[slug] = StepForm(slug, title, body, route.endpoint, CHECK_OF_STEP[slug])
    return steps


APPLICATION_STEPS: dict[str, StepForm] = _application_steps()


def case_policy(engine: Engine, settings: Any, state: ApplicationState) -> Policy | None:
    """The policy the case runs under: the one in force in its area on its acceptance day, as
    the workflow fetched it (None before acceptance or when none is in force)."""
    if state.accepted_on is None:
        return None
    try:
        return policy_in_force(engine, settings.policies_dir, state.area_code, state.accepted_on)
    except Exception:  # a missing or conflicting policy: the step's own check will say so
        return None


def _probe_input(check: Callable[..., Any], actor: Actor) -> BaseModel:
    """The check's input with the officer and no data: required choices take their first value
    so that checks which branch on them reach their role and state checks."""
    model = typing.get_type_hints(check)["inp"]
    values: dict[str, Any] = {"actor": actor}
    for name, info in model.model_fields.items():
        if name == "actor" or not info.is_required():
            continue
        tp = info.annotation
        if isinstance(tp, type) and issubclass(tp, Enum):
            values[name] = next(iter(tp))
        elif tp is bool:
            values[name] = True
    built: BaseModel = model.model_construct(**values)
    return built


def offered(
    state: ApplicationState, actor: Actor, policy: Policy | None, today: date | None = None
) -> list[StepForm]:
    """The steps ``actor`` may take on the case now, in the API's order."""
    checks = StepChecks(state=state, policy=policy, today=today or beijing_today())
    out = []
    for step in APPLICATION_STEPS.values():
        check = getattr(checks, step.check)
        try:
            check(_probe_input(check, actor))
        except Exception as exc:  # only a refusal of role, area or state hides the step
            refusal = refusal_of(exc)
            if refusal is not None and refusal.kind in NOT_OFFERED:
                continue
        out.append(step)
    return out
