"""The workbench's pages: sign-in and the worklist (the case page and its step forms are
``api/workbench/case.py``).

- ``GET /workbench``: the sign-in form, or the signed-in officer's worklist — every case of their
  area with a deadline, grouped 已逾期 / 今日到期 / 本周到期 / 以后 (Beijing time), filterable by
  township, programme and status and searchable by applicant name (prefix) or ID number (exact),
  with who acts next; read through ``case_page`` exactly as ``GET /cases`` reads it.
- ``POST /workbench/sign-in`` (form ``token``) and ``POST /workbench/sign-out`` (CSRF).
Errors are pages too: a bad filter re-renders the worklist with the message by its field (422)."""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.status import HTTP_303_SEE_OTHER

from api.db import Database
from api.deps import ensure_area
from api.routes.applications import APPLY_ROLES
from api.routes.cases import CaseRow, case_page
from api.workbench.forms import filled
from api.workbench.session import (
    close_session,
    csrf_ok,
    csrf_token,
    officer_for,
    open_session,
    session_token,
)
from jiuzhu.clock import beijing_today, to_beijing
from jiuzhu.console import CASE_KIND_NAMES_ZH
from jiuzhu.contract import ROLE_NAMES_ZH, Actor, CaseKind, Role
from rules.areas import full_name, is_known_area
from rules.id_number import validate_id_number
from rules.programmes import PROGRAMME_NAMES_ZH, Programme
from workflows.applications.contract import STATUS_LABELS_ZH as APPLICATION_STATUS_ZH
from workflows.entitlements.contract import STATUS_LABELS_ZH as ENTITLEMENT_STATUS_ZH
from workflows.temporary.contract import STATUS_LABELS_ZH as TEMPORARY_STATUS_ZH

router = APIRouter(prefix="/workbench", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["filled"] = filled  # a form group shown open: it holds a value or an error
STATIC_DIR = Path(__file__).parent / "static"

STATUS_ZH: dict[str, dict[str, str]] = {
    CaseKind.APPLICATION.value: {k.value: v for k, v in APPLICATION_STATUS_ZH.items()},
    CaseKind.ENTITLEMENT.value: {k.value: v for k, v in ENTITLEMENT_STATUS_ZH.items()},
    CaseKind.TEMPORARY.value: {k.value: v for k, v in TEMPORARY_STATUS_ZH.items()},
}


def _status_choices() -> list[tuple[str, str]]:
    """Every status of the three case kinds as (value, Chinese label); a value two kinds share
    shows both labels."""
    labels: dict[str, list[str]] = {}
    for names in STATUS_ZH.values():
        for value, label in names.items():
            if label not in labels.setdefault(value, []):
                labels[value].append(label)
    return sorted(((v, " / ".join(ls)) for v, ls in labels.items()), key=lambda c: c[1])


STATUS_CHOICES = _status_choices()
GROUPS = (("overdue", "已逾期"), ("today", "今日到期"), ("week", "本周到期"), ("later", "以后"))
WORKLIST_LIMIT = 200


def _kind_zh(kind: str) -> str:
    try:
        return CASE_KIND_NAMES_ZH[CaseKind(kind)]
    except ValueError:
        return kind


def _programme_zh(programme: str) -> str:
    try:
        return PROGRAMME_NAMES_ZH[Programme(programme)]
    except ValueError:
        return programme


def _area_zh(code: str) -> str:
    return full_name(code) if is_known_area(code) else code


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    token = session_token(request)
    base = {"csrf": csrf_token(token) if token else "", "officer": None}
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # pages carry personal data
    return response


def _database(request: Request) -> Database:
    return Database(request.app.state.engine)


def to_sign_in() -> Response:
    """Where a page sends an officer without a session: the sign-in form."""
    return RedirectResponse("/workbench", status_code=HTTP_303_SEE_OTHER)


def stale_form(request: Request) -> Response:
    """A form posted without this session's CSRF token (403): nothing is recorded."""
    return _page(request, "message.html", {"message": "表单已失效，请刷新页面后重试"}, 403)


def at_text(instant: datetime | str | None) -> str:
    """An instant in Beijing time, to the minute (``""`` when none)."""
    if not instant:
        return ""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return to_beijing(instant).strftime("%Y-%m-%d %H:%M")


def case_facts(
    case_kind: str, programme: str, status: str, area_code: str, applicant_name: str
) -> dict[str, str]:
    """A case's kind, programme, status and area in Chinese, with its applicant: what a
    worklist row and the case page both show."""
    return {
        "kind": _kind_zh(case_kind),
        "programme": _programme_zh(programme),
        "status": STATUS_ZH.get(case_kind, {}).get(status, status),
        "area": _area_zh(area_code),
        "applicant": applicant_name,
    }


def due_day(instant: datetime) -> date:
    """The last day of a deadline that falls due at ``instant``: a statutory period ends at
    24:00 of its last day (Beijing), stored as 00:00 of the day after."""
    return (to_beijing(instant) - timedelta(microseconds=1)).date()


def due_text(instant: datetime | str | None) -> str:
    """A due instant as an officer reads it: ``2026-11-11`` for one falling due at 24:00 of
    that day, with the time where it is another (``2026-11-11 17:30``); ``—`` when none."""
    if not instant:
        return "—"
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    local = to_beijing(instant)
    if local.time() == time(0):
        return due_day(instant).isoformat()
    return local.strftime("%Y-%m-%d %H:%M")


def _group(row: CaseRow, today: datetime) -> str:
    if row.overdue:
        return "overdue"
    if row.next_deadline is None:
        return "later"
    due = due_day(row.next_deadline)
    if due <= today.date():
        return "today"
    if due < (today + timedelta(days=7 - today.weekday())).date():
        return "week"
    return "later"


def _filters(
    township_code: str, programme: str, status: str, q: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The worklist filters as ``case_page`` takes them, and the message of each bad one."""
    errors: dict[str, str] = {}
    township_code, programme, status, q = (v.strip() for v in (township_code, programme, status, q))
    if township_code and not (township_code.isdigit() and is_known_area(township_code)):
        errors["township_code"] = f"地区代码{township_code}无效"
    if programme and programme not in {p.value for p in Programme}:
        errors["programme"] = f"未知的救助项目{programme}"
    if status and status not in {value for value, _ in STATUS_CHOICES}:
        errors["status"] = f"状态{status}无效"
    id_number = name = None
    if q:
        if q[:17].isdigit() and len(q) == 18:
            try:
                id_number = validate_id_number(q.upper())
            except ValueError as exc:
                errors["q"] = f"身份证号无效：{exc}"
        elif len(q) > 20:
            errors["q"] = "姓名最长20个字"
        else:
            name = q
    return {
        "township_code": township_code or None,
        "programme": programme or None,
        "status": status or None,
        "applicant_name": name,
        "id_number": id_number,
    }, errors


@router.get("", response_class=HTMLResponse)
async def worklist(
    request: Request,
    township_code: str = "",
    programme: str = "",
    status: str = "",
    q: str = "",
) -> Response:
    """The sign-in form, or the officer's worklist (module docstring)."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return _page(request, "signin.html", {"error": None})
    filters, errors = _filters(township_code, programme, status, q)
    if filters["township_code"] and not errors:
        try:
            ensure_area(actor, filters["township_code"])
        except HTTPException:
            errors["township_code"] = f"{filters['township_code']}不在您的辖区内"
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in GROUPS}
    if not errors:
        page = await _database(request).read(
            case_page,
            actor,
            case_kind=None,
            due_before=None,
            overdue=None,
            cursor=None,
            limit=WORKLIST_LIMIT,
            **filters,
        )
        now = datetime.combine(beijing_today(), datetime.min.time())
        for row in page.items:
            groups[_group(row, now)].append(_row_view(row))
    return _page(
        request,
        "worklist.html",
        {
            "officer": _officer_view(actor),
            "groups": [(key, label, groups[key]) for key, label in GROUPS],
            "form": {
                "township_code": township_code,
                "programme": programme,
                "status": status,
                "q": q,
            },
            "errors": errors,
            "programmes": [(p.value, PROGRAMME_NAMES_ZH[p]) for p in Programme],
            "may_apply": actor.role in APPLY_ROLES,
            "statuses": STATUS_CHOICES,
        },
        status=422 if errors else 200,
    )


def _officer_view(actor: Actor) -> dict[str, str]:
    return {
        "name": actor.name,
        "role": ROLE_NAMES_ZH.get(actor.role, actor.role.value),
        "area": _area_zh(actor.area_code),
    }


def _row_view(row: CaseRow) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        **case_facts(row.case_kind, row.programme, row.status, row.area_code, row.applicant_name),
        "id_masked": row.applicant_id_masked,
        "due": due_text(row.next_deadline),
        "overdue": row.overdue,
        "due_what": row.next_deadline_label or "",
        "who_acts": _role_zh(row.next_deadline_role),
    }


def _role_zh(role: str | None) -> str:
    try:
        return ROLE_NAMES_ZH[Role(role)] if role else "—"
    except ValueError:
        return role or "—"


@router.post("/sign-in")
async def sign_in(request: Request, token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Sign in with the officer's token; a wrong or expired token is the form again (401)."""
    actor = await officer_for(request, token.strip())
    if actor is None:
        return _page(request, "signin.html", {"error": "令牌无效、已过期或已停用"}, status=401)
    response = RedirectResponse("/workbench", status_code=HTTP_303_SEE_OTHER)
    open_session(response, request, token.strip())
    return response


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    token = session_token(request)
    if token and not csrf_ok(token, csrf):
        raise HTTPException(403, "CSRF token missing or wrong")
    response = RedirectResponse("/workbench", status_code=HTTP_303_SEE_OTHER)
    close_session(response)
    return response
