"""A new application from the workbench (低保办法 Art. 4–6: an application by one member for the
household, at the township or through the village).

- ``GET /workbench/applications/new``: the form of the case API's ``POST /applications`` body
  (``ApplicationCreate``: programme, area, the members named, the written application's date),
  generated like every step form (``api/workbench/forms.py``); offered to the roles the API
  admits (its ``Applier`` dependency).
- ``POST /workbench/applications/new``: CSRF-checked and handed to the API's own
  ``create_application`` with an Idempotency-Key, so a double submit starts one case. Success →
  303 to the new case's page; a bad field → the form again with the API's message beside it
  (422), nothing started; an area outside the officer's → 403."""

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.status import HTTP_303_SEE_OTHER
from temporalio.service import RPCError

from api.db import Database
from api.errors import UNAVAILABLE_ZH, ProblemError
from api.routes.applications import create_application
from api.schemas.applications import ApplicationCreate
from api.workbench.forms import (
    field_errors,
    flat_values,
    form_data,
    form_fields,
    idempotency_key,
)
from api.workbench.routes import _officer_view, _page, stale_form, to_sign_in
from api.workbench.session import csrf_ok, officer_for, session_token
from api.workbench.steps import admitted, route_guard
from jiuzhu.contract import Actor
from jiuzhu.refusals import RefusalError
from rules.household import Relation

router = APIRouter(prefix="/workbench", include_in_schema=False)
GUARD = route_guard(create_application)
PREFILL_MEMBERS = 3  # rows offered for the household's members (one more is always added)


MAX_ROWS = 30  # member rows a page offers at most (the household limit is the policy's)


def _form(values: dict[str, str], errors: dict[str, str], rows: int = 0) -> dict[str, Any]:
    rows = min(MAX_ROWS, max(PREFILL_MEMBERS, rows, 1 + max(map(_row, values), default=-1)))
    fields = form_fields(ApplicationCreate, prefill={"household": [{}] * (rows - 1)})
    more = min(MAX_ROWS, rows + PREFILL_MEMBERS)
    return {
        "fields": fields,
        "values": values,
        "errors": errors,
        "key": uuid.uuid4().hex,
        "more": f"/workbench/applications/new?members={more}" if rows < MAX_ROWS else None,
    }


def _row(name: str) -> int:
    parts = name.split(".")
    return (
        int(parts[1]) if parts[0] == "household" and len(parts) > 2 and parts[1].isdigit() else -1
    )


async def _officer(request: Request) -> Actor | Response:
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    if not await admitted(GUARD, actor):
        message = "您的角色不能受理救助申请"
        return _page(request, "message.html", {"message": message}, status=403)
    return actor


@router.get("/applications/new", response_class=HTMLResponse)
async def new_application(request: Request, members: str = "") -> Response:
    """The empty application form, the officer's own area filled in; ``members`` rows for the
    household (more on request, up to ``MAX_ROWS``)."""
    found = await _officer(request)
    if isinstance(found, Response):
        return found
    values = flat_values(
        {"area_code": found.area_code, "household": [{"relation": Relation.APPLICANT.value}]}
    )
    rows = int(members) if members.isdigit() and len(members) < 3 else 0
    return _render(request, found, values, {}, rows=rows)


def _render(
    request: Request,
    actor: Actor,
    values: dict[str, str],
    errors: dict[str, str],
    problem: str = "",
    status: int = 200,
    rows: int = 0,
) -> Response:
    return _page(
        request,
        "new_application.html",
        {
            "officer": _officer_view(actor),
            "form": _form(values, errors, rows),
            "problem": problem,
        },
        status=status,
    )


@router.post("/applications/new", response_class=HTMLResponse)
async def submit_application(request: Request) -> Response:
    """Start the application (module docstring)."""
    found = await _officer(request)
    if isinstance(found, Response):
        return found
    actor = found
    form = await request.form()
    if not csrf_ok(session_token(request) or "", str(form.get("csrf") or "")):
        return stale_form(request)
    pairs = [(k, str(v)) for k, v in form.multi_items() if isinstance(v, str)]
    values = {k: v for k, v in pairs if k not in ("csrf", "idempotency_key")}
    try:
        body = ApplicationCreate.model_validate(form_data(ApplicationCreate, pairs))
    except ValidationError as exc:
        return _render(request, actor, values, field_errors(exc), "请按提示修改后重新提交", 422)
    try:
        state = await create_application(
            body=body,
            response=Response(),
            actor=actor,
            db=Database(request.app.state.engine),
            client=request.app.state.temporal,
            settings=request.app.state.settings,
            idempotency_key=idempotency_key(form),
        )
    except RefusalError as exc:
        refusal = exc.refusal
        errors = {refusal.field: refusal.message_zh} if refusal.field else {}
        return _render(request, actor, values, errors, refusal.message_zh, refusal.http_status)
    except ProblemError as exc:
        errors = {exc.field: exc.detail} if exc.field else {}
        return _render(request, actor, values, errors, exc.detail, exc.status)
    except HTTPException as exc:
        return _render(request, actor, values, {}, str(exc.detail), exc.status_code)
    except RPCError:
        response = _render(request, actor, values, {}, UNAVAILABLE_ZH, 503)
        response.headers["Retry-After"] = "5"
        return response
    return RedirectResponse(
        f"/workbench/cases/{state.application_id}", status_code=HTTP_303_SEE_OTHER
    )
