"""The case page of the workbench and its step forms.

- ``GET /workbench/cases/{case_id}``: household (masked for the role, as the API masks it),
  deadlines, timeline, audit trail, notices (HTML/PDF), an entitlement's payments and the form
  of every step of an application, temporary case or entitlement the officer may take now
  (``api/workbench/steps.py``), each generated from the step's own body model
  (``api/workbench/forms.py``). An unmasked read is recorded in the access log.
- ``POST /workbench/cases/{case_id}/steps/{slug}``: a step form, CSRF-checked, handed to the case
  API's own route function. Success → 303 back to the case page (the state as the step left it);
  a bad field → the page again, 422, the API's message beside the field; a refusal → the page
  with the refusal's message and status (403/404/409/422); Temporal unavailable → 503. Each form
  carries an Idempotency-Key, so a double submit records the step once.
- ``GET /workbench/cases/{case_id}/notices/{notice_id}``: a notice as issued (``?format=pdf``)."""

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.status import HTTP_303_SEE_OTHER
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from api.access import record_read
from api.case_states import current_state
from api.db import Database
from api.deps import ensure_area
from api.errors import UNAVAILABLE_ZH
from api.masking import disclosure, mask
from api.routes.applications import get_notice
from api.routes.applications import live_state as application_state
from api.routes.entitlements import get_entitlement
from api.routes.entitlements import get_notice as get_entitlement_notice
from api.routes.temporary import live_state as temporary_state
from api.workbench.forms import (
    FormField,
    field_errors,
    flat_values,
    form_data,
    form_fields,
    idempotency_key,
)
from api.workbench.routes import (
    _officer_view,
    _page,
    _role_zh,
    at_text,
    case_facts,
    stale_form,
    to_sign_in,
)
from api.workbench.session import csrf_ok, officer_for, session_token
from api.workbench.steps import STEPS, StepForm, admitted, case_policy, offered
from jiuzhu.clock import to_beijing
from jiuzhu.contract import Actor, CaseKind
from jiuzhu.db.models import AuditEntry, CaseRecord
from jiuzhu.refusals import RefusalError, refusal_of
from rules.household import RELATION_NAMES_ZH
from rules.id_number import birth_date_from_id
from rules.programmes import PROGRAMME_NAMES_ZH
from workflows.applications.models import ApplicationState
from workflows.entitlements.models import EntitlementState
from workflows.temporary.models import TemporaryCaseState

router = APIRouter(prefix="/workbench", include_in_schema=False)


def _case_row(session: Any, case_id: str) -> CaseRecord | None:
    row: CaseRecord | None = session.get(CaseRecord, case_id)
    return row


AUDIT_LIMIT = 200


def _audit_lines(session: Any, case_id: str) -> list[dict[str, Any]]:
    """The case's audit trail (DOMAIN §7): who did what, when, on which evidence, under which
    policy version — oldest first, at most ``AUDIT_LIMIT`` lines."""
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.case_id == case_id)
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
        .limit(AUDIT_LIMIT)
    ).all()
    return [
        {
            "at": at_text(r.at),
            "who": r.actor_name or "系统",
            "role": _role_zh(r.actor_role) if r.actor_role else "",
            "what": (r.detail or {}).get("note_zh") or r.action,
            "evidence": "；".join(_evidence_text(e) for e in r.evidence or []),
            "policy": r.policy_version_id or "",
        }
        for r in rows
    ]


async def _signed_in_case(request: Request, case_id: str) -> tuple[Actor, CaseRecord] | Response:
    """The officer and the case's read-model row, or the page that answers instead (sign-in,
    404, 403) — the API's own area rule (``ensure_area``)."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    row = await Database(request.app.state.engine).read(_case_row, case_id)
    if row is None:
        return _page(request, "message.html", {"message": f"案件{case_id}不存在"}, status=404)
    try:
        ensure_area(actor, row.area_code)
    except HTTPException:
        return _page(request, "message.html", {"message": "该案件不在您的辖区内"}, status=403)
    return actor, row


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_view(request: Request, case_id: str, done: str = "") -> Response:
    """One case, with the forms of the steps the officer may take now (module docstring)."""
    found = await _signed_in_case(request, case_id)
    if isinstance(found, Response):
        return found
    actor, row = found
    steps = _steps_of(row)
    message = f"已办理：{steps[done].title}" if done in steps else ""
    return await _render(request, actor, row, message=message)


def _steps_of(row: CaseRecord) -> dict[str, StepForm]:
    try:
        return STEPS.get(CaseKind(row.case_kind), {})
    except ValueError:
        return {}


async def _render(
    request: Request,
    actor: Actor,
    row: CaseRecord,
    *,
    posted: tuple[str, dict[str, str], dict[str, str]] | None = None,
    message: str = "",
    problem: str = "",
    status: int = 200,
) -> Response:
    """The case page; ``posted`` = (slug, values, errors) re-shows a refused form as it was sent."""
    client = request.app.state.temporal
    db = Database(request.app.state.engine)
    live: ApplicationState | TemporaryCaseState | EntitlementState | None = None
    payments: list[dict[str, Any]] = []
    if row.case_kind == CaseKind.APPLICATION.value:
        live = await current_state(
            db, row, ApplicationState, lambda r: application_state(client, r.case_id, r.revision)
        )
    elif row.case_kind == CaseKind.TEMPORARY.value:
        live = await current_state(
            db, row, TemporaryCaseState, lambda r: temporary_state(client, r.case_id, r.revision)
        )
    elif row.case_kind == CaseKind.ENTITLEMENT.value:
        detail = await get_entitlement(row.case_id, actor, db, client)
        live = detail.state
        payments = [
            {
                "period": p.period,
                "amount": f"{p.amount:,.2f}",
                "status": p.status,
                "failure": p.failure_reason or "",
                "paid_at": to_beijing(p.paid_at).strftime("%Y-%m-%d")
                if isinstance(p.paid_at, datetime)
                else str(p.paid_at or ""),
            }
            for p in detail.payments
        ]
    state = live.model_dump(mode="json") if live is not None else None
    seen = disclosure(actor)
    if state is not None and seen.id_numbers:
        await record_read(
            request.scope,
            actor,
            kind=row.case_kind,
            case_id=row.case_id,
            area_code=row.area_code,
            workflow_id=row.workflow_id,
        )
    view = mask(state, seen) if state is not None else None
    audit = await Database(request.app.state.engine).read(_audit_lines, row.case_id)
    forms: list[dict[str, Any]] = []
    if live is not None:
        policy = None
        if isinstance(live, ApplicationState):
            engine, settings = request.app.state.engine, request.app.state.settings
            policy = await run_in_threadpool(case_policy, engine, settings, live)
        for step in await offered(CaseKind(row.case_kind), live, actor, policy):
            if step.slug == "deliver-notice" and not _undelivered(live):
                continue  # nothing to deliver: the form would only ask for a notice number
            forms.append(_form_view(step, live, seen.id_numbers, posted))
    facts = case_facts(row.case_kind, row.programme, row.status, row.area_code, row.applicant_name)
    return _page(
        request,
        "case.html",
        {
            "officer": _officer_view(actor),
            "case": {"case_id": row.case_id, **facts, "revision": row.revision},
            "state": view,
            "timeline": [_when(t) for t in (view or {}).get("timeline", [])],
            "deadlines": [_deadline(d) for d in (view or {}).get("deadlines", [])],
            "notices": [
                _notice(row.case_id, n, pdf=row.case_kind != CaseKind.ENTITLEMENT.value)
                for n in (view or {}).get("notices", [])
            ],
            "payments": payments,
            "forms": forms,
            "audit": audit,
            "relations": {r.value: name for r, name in RELATION_NAMES_ZH.items()},
            "programmes": {p.value: name for p, name in PROGRAMME_NAMES_ZH.items()},
            "message": message,
            "problem": problem,
        },
        status=status,
    )


POSTED_NOTICES = ("publicity",)  # posted for all to see (低保办法 Art. 19), not delivered


def _undelivered(state: Any) -> list[Any]:
    """The case's notices to be delivered to the household and not yet delivered, oldest
    first (an application's ``NoticeRef`` carries ``delivered_on``)."""
    return [
        n
        for n in getattr(state, "notices", [])
        if n.kind not in POSTED_NOTICES
        and getattr(n, "delivered_on", None) is None
        and hasattr(n, "delivered_on")
    ]


def _prefill(step: StepForm, state: Any, ids_shown: bool) -> dict[str, Any]:
    """What a form starts with, from the case itself: the investigation's members are those the
    application named (their ID numbers only where the officer's role sees them); a delivery
    names the latest notice not yet delivered."""
    if not isinstance(state, ApplicationState):
        return {}
    if step.slug == "investigation" and ids_shown:
        members = [
            {
                "name": m.name,
                "id_number": m.id_number,
                "relation": m.relation.value,
                "birth_date": birth_date_from_id(m.id_number).isoformat(),
            }
            for m in state.members
        ]
        return {"household": {"members": members}, "signed_by_household": True}
    if step.slug == "deliver-notice":
        open_notices = _undelivered(state)
        if open_notices:
            return {"notice_id": open_notices[-1].notice_id}
    return {}


def _form_view(
    step: StepForm,
    state: Any,
    ids_shown: bool,
    posted: tuple[str, dict[str, str], dict[str, str]] | None,
) -> dict[str, Any]:
    prefill = _prefill(step, state, ids_shown)
    values, is_posted = flat_values(prefill), False
    errors: dict[str, str] = {}
    if posted is not None and posted[0] == step.slug:
        _, values, errors = posted
        is_posted = True
    shape = _rows_shape(values) if is_posted else prefill
    fields: list[FormField] = form_fields(step.body, prefill=shape)
    return {
        "slug": step.slug,
        "title": step.title,
        "fields": fields,
        "values": values,
        "errors": errors,
        "open": is_posted,
        "key": uuid.uuid4().hex,
    }


def _rows_shape(values: dict[str, str]) -> dict[str, Any]:
    """The nesting of posted values (as JSON), so a re-shown form has as many rows as were sent."""
    tree: dict[str, Any] = {}
    for name in values:
        node = tree
        for part in name.split("."):
            node = node.setdefault(part, {})

    def lists(node: dict[str, Any]) -> Any:
        if node and all(k.isdigit() for k in node):
            return [lists(node[k]) for k in sorted(node, key=int)]
        return {k: lists(v) for k, v in node.items()}

    shaped = lists(tree)
    return shaped if isinstance(shaped, dict) else {}


@router.post("/cases/{case_id}/steps/{slug}", response_class=HTMLResponse)
async def take_step(request: Request, case_id: str, slug: str) -> Response:
    """One step from its form (module docstring)."""
    found = await _signed_in_case(request, case_id)
    if isinstance(found, Response):
        return found
    actor, row = found
    form = await request.form()
    token = session_token(request) or ""
    if not csrf_ok(token, str(form.get("csrf") or "")):
        return stale_form(request)
    step = _steps_of(row).get(slug)
    if step is None:
        return _page(request, "message.html", {"message": f"未知的办理事项{slug}"}, status=404)
    if not await admitted(step.guard, actor):
        message = f"您的角色不能办理「{step.title}」"
        return _page(request, "message.html", {"message": message}, status=403)
    pairs = [(k, str(v)) for k, v in form.multi_items() if isinstance(v, str)]
    values = {k: v for k, v in pairs if k not in ("csrf", "idempotency_key")}
    try:
        body = step.body.model_validate(form_data(step.body, pairs))
    except ValidationError as exc:
        errors = field_errors(exc)
        return await _render(
            request,
            actor,
            row,
            posted=(slug, values, errors),
            problem="请按提示修改后重新提交",
            status=422,
        )
    try:
        await step.endpoint(
            **{step.id_param: case_id},
            body=body,
            actor=actor,
            db=Database(request.app.state.engine),
            client=request.app.state.temporal,
            idempotency_key=idempotency_key(form),
        )
    except (RefusalError, WorkflowUpdateFailedError) as exc:
        refusal = exc.refusal if isinstance(exc, RefusalError) else refusal_of(exc)
        if refusal is None:
            return await _unavailable(request, actor, row, slug, values)
        errors = {refusal.field: refusal.message_zh} if refusal.field else {}
        return await _render(
            request,
            actor,
            row,
            posted=(slug, values, errors),
            problem=refusal.message_zh,
            status=refusal.http_status,
        )
    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
        return await _unavailable(request, actor, row, slug, values)
    return RedirectResponse(
        f"/workbench/cases/{case_id}?done={slug}", status_code=HTTP_303_SEE_OTHER
    )


async def _unavailable(
    request: Request, actor: Actor, row: CaseRecord, slug: str, values: dict[str, str]
) -> Response:
    try:
        response = await _render(
            request, actor, row, posted=(slug, values, {}), problem=UNAVAILABLE_ZH, status=503
        )
    except RPCError:
        response = _page(request, "message.html", {"message": UNAVAILABLE_ZH}, status=503)
    response.headers["Retry-After"] = "5"
    return response


@router.get("/cases/{case_id}/notices/{notice_id}")
async def notice_view(
    request: Request, case_id: str, notice_id: str, format: Literal["html", "pdf"] = "html"
) -> Response:
    """A notice of the case as issued, through the case API's own reader (HTML, or PDF with
    ``?format=pdf``)."""
    found = await _signed_in_case(request, case_id)
    if isinstance(found, Response):
        return found
    actor, row = found
    engine = request.app.state.engine

    def read() -> Response:
        with Session(engine) as session:
            if row.case_kind == CaseKind.ENTITLEMENT.value:
                if format == "pdf":
                    raise HTTPException(404, "待遇案件的文书仅提供网页版")
                html: Response = get_entitlement_notice(case_id, notice_id, actor, session)
                return html
            response: Response = get_notice(
                case_id, notice_id, request, actor, session, engine, format
            )
            return response

    try:
        return await run_in_threadpool(read)
    except HTTPException as exc:
        return _page(request, "message.html", {"message": str(exc.detail)}, exc.status_code)


EVIDENCE_KEYS_ZH = {
    "kind": "类别",
    "investigators": "调查人员",
    "method": "方式",
    "signed_by_household": "申请人签字",
    "source": "数据源",
    "sources": "数据源",
    "status": "结果",
    "findings": "不一致项",
    "round": "轮次",
    "on": "日期",
    "discrepancies": "不一致项",
    "eligible": "符合条件",
    "per_capita_income": "人均收入",
    "standard": "标准",
    "monthly_amount": "月救助金额",
}
EVIDENCE_VALUES_ZH = {
    "investigation_form": "入户调查表",
    "investigation": "入户调查",
    "verification": "信息核对",
    "means_test": "收入核算",
    "home_visit": "入户",
    "ok": "已核对",
}


def _evidence_text(item: Any) -> str:
    """One piece of evidence in a line a person reads: a document's name as it is; a record
    (``{"kind": "investigation_form", "investigators": [...]}``) as its kind and facts, lists
    of records counted."""
    if not isinstance(item, dict):
        return str(item)
    parts = []
    for key, value in item.items():
        key = EVIDENCE_KEYS_ZH.get(key, key)
        if isinstance(value, str):
            value = EVIDENCE_VALUES_ZH.get(value, value)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            parts.append(f"{key} {len(value)}项")
        elif isinstance(value, list):
            parts.append(f"{key} " + "、".join(str(v) for v in value))
        elif isinstance(value, bool):
            parts.append(f"{key} {'是' if value else '否'}")
        else:
            parts.append(f"{key} {value}")
    return "，".join(parts)


def _notice(case_id: str, n: dict[str, Any], pdf: bool = True) -> dict[str, Any]:
    href = f"/workbench/cases/{case_id}/notices/{n.get('notice_id', '')}"
    return {
        "title": n.get("title") or n.get("kind", ""),
        "delivered_on": n.get("delivered_on") or "",
        "href": href,
        "pdf": f"{href}?format=pdf" if pdf else "",
    }


def _when(entry: dict[str, Any]) -> dict[str, Any]:
    actor = entry.get("actor") or {}
    return {
        "at": at_text(entry.get("at")),
        "on": entry.get("on") or "",
        "who": actor.get("name", "系统"),
        "action": entry.get("action", ""),
        "note": entry.get("note_zh", ""),
    }


def _deadline(d: dict[str, Any]) -> dict[str, Any]:
    """A deadline's row: its state, and whether the reminder and escalation went out — an
    escalation withdrawn because the act was in time on paper (``voided_at``) says so."""
    spec = d.get("spec") or {}
    state = "已完成" if d.get("met_at") else "已取消" if d.get("cancelled_at") else "进行中"
    voided = bool(d.get("voided_at"))
    if d.get("met_on"):
        state = f"已完成（书面日期 {d['met_on']}）"
    if d.get("escalated_at") and state == "进行中":
        state = "已逾期（已上报）"
    escalated = "已撤回" if voided else "已上报" if d.get("escalated_at") else "—"
    return {
        "label": spec.get("label_zh") or spec.get("name", ""),
        "due": d.get("due_date", ""),
        "state": state,
        "reminded": bool(d.get("reminded_at")),
        "escalated": escalated,
        "basis": spec.get("basis", ""),
    }
