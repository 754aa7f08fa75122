"""The workbench's county pages (issue 16 item 4): payroll months, reserve funds, supervision and
the officer's inbox, server-rendered in Chinese over the very functions the JSON API's routes run
(``api/routes/payroll.py``, ``bank_batches.py``, ``reserve_fund.py``, ``spot_checks.py``,
``complaints.py``, ``outbox.py``), with the API's own role tuples and area checks: a page shows
what the API would answer and refuses what it would refuse (the message page, with its status).

- ``GET /workbench/payroll``: the months of the officer's county (``?county=`` for an officer
  above county level), newest first — status, line counts and totals, funding (reference, who,
  when), downloads — and the county's daily bank batches of temporary assistance.
- ``GET /workbench/payroll/{period}``: one month, with its totals per programme and status.
- ``GET /workbench/payroll/{period}/bank-file`` and ``…/reconciliation``: the downloads, answered
  by the API's own route functions (masked by role exactly as there) for a browser signed in by
  cookie; the API's URLs (``/payroll/{county}/{period}/…``) take a bearer token instead.
- ``GET /workbench/reserve-funds``: every township fund of the area, balance and latest entries;
  ``GET /workbench/reserve-funds/{township}``: its whole ledger, a page at a time.
- ``GET /workbench/supervision``: the area's spot-check rounds and complaints, for the roles the
  API lets read them.
- ``GET /workbench/messages``: my reminders and escalations as ``GET /me/messages`` gives them;
  ``POST /workbench/messages/{id}/acknowledge`` marks one read (the form's CSRF token, else 403).

Every page links operators to the workflow of the month, fund or case in the Temporal Web UI
(``JIUZHU_TEMPORAL_UI_URL``). Instants are shown in Beijing time, money with two places."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.status import HTTP_303_SEE_OTHER

import rules.areas as area_registry
from api.deps import require_roles
from api.errors import ProblemError
from api.routes import bank_batches, complaints, outbox, payroll, reserve_fund, spot_checks
from api.schemas.applications import MessageOut
from api.schemas.temporary import LedgerEntryOut, ReserveFundOut
from api.workbench.routes import (
    _area_zh,
    _database,
    _officer_view,
    _page,
    _programme_zh,
    at_text,
    due_text,
    stale_form,
    templates,
    to_sign_in,
)
from api.workbench.session import csrf_ok, officer_for, session_token
from jiuzhu.clock import to_beijing
from jiuzhu.contract import Actor
from jiuzhu.db.models import CaseRecord, Officer
from jiuzhu.db.models_payments import BankBatch, PayrollRun
from jiuzhu.refusals import HTTP_STATUS, RefusalError
from jiuzhu.settings import Settings
from rules.areas import AreaLevel
from workflows.payments.contract import (
    DAILY_BATCH_STATUS_LABELS_ZH,
    PAYROLL_STATUS_LABELS_ZH,
    PaymentStatus,
    PayrollStatus,
)
from workflows.supervision.contract import (
    CATEGORY_NAMES_ZH,
    COMPLAINT_STATUS_LABELS_ZH,
    SPOT_CHECK_STATUS_LABELS_ZH,
    ComplaintChannel,
    ComplaintStatus,
    ResponsibleLevel,
    SpotCheckStatus,
    complaint_workflow_id,
)
from workflows.temporary.contract import temporary_workflow_id

router = APIRouter(prefix="/workbench", include_in_schema=False)

PAYROLL_MONTHS = 60  # as GET /payroll/{county} answers by default
DAILY_BATCHES = 30
FUND_PREVIEW = 10  # entries per township on the overview
LEDGER_PAGE = 100  # as GET /reserve-funds/{township} answers by default
MESSAGES_PAGE = 50  # as GET /me/messages answers by default
SUPERVISION_ROWS = 50
CENT = Decimal("0.01")

# Presentation only (the statuses themselves are the domain's): Chinese for the values the
# contracts name in English.
PAYMENT_STATUS_ZH = {
    PaymentStatus.PENDING.value: "待发送",
    PaymentStatus.SENT.value: "已送银行",
    PaymentStatus.PAID.value: "已发放",
    PaymentStatus.FAILED.value: "发放失败（下月重发）",
    PaymentStatus.FLAGGED.value: "多次失败，待人工处理",
    PaymentStatus.CANCELLED.value: "已取消",
    PaymentStatus.HELD.value: "暂缓发放",
}
PAYROLL_STATUS_ZH = {k.value: v for k, v in PAYROLL_STATUS_LABELS_ZH.items()}
DAILY_STATUS_ZH = {k.value: v for k, v in DAILY_BATCH_STATUS_LABELS_ZH.items()}
ROUND_STATUS_ZH = {k.value: v for k, v in SPOT_CHECK_STATUS_LABELS_ZH.items()}
COMPLAINT_STATUS_ZH = {k.value: v for k, v in COMPLAINT_STATUS_LABELS_ZH.items()}
CATEGORY_ZH = {k.value: v for k, v in CATEGORY_NAMES_ZH.items()}
CHANNEL_ZH = {
    ComplaintChannel.HOTLINE.value: "投诉举报电话",
    ComplaintChannel.LETTER.value: "来信",
    ComplaintChannel.VISIT.value: "来访",
    ComplaintChannel.ONLINE.value: "网上信访",
    ComplaintChannel.REFERRED.value: "上级交办或部门转办",
}
LEVEL_ZH = {ResponsibleLevel.TOWNSHIP.value: "乡镇（街道）", ResponsibleLevel.COUNTY.value: "县级"}
DIRECTION_ZH = {"credit": "收入", "debit": "支出"}
PURPOSE_ZH = {
    "replenishment": "县级补充备用金",
    "prepayment": "先行救助",
    "recovery": "追回缴回",
    "bank_return": "银行退回",
}
MESSAGE_KIND_ZH = {"reminder": "到期提醒", "escalation": "逾期上报", "notice": "通知"}

# What a refusal says on the page when the API's own text is not Chinese.
STATUS_MESSAGES_ZH = {
    403: "您的角色或辖区无权查看该页面",
    404: "没有找到要查看的记录",
    410: "该文件已无法读取",
    422: "请求参数无效",
}
FIELD_MESSAGES_ZH = {
    "county_code": "县级行政区划代码无效或未登记",
    "period": "月份应为YYYY-MM格式，如2027-02",
}
REFUSALS = (HTTPException, ProblemError, RefusalError)

SUPERVISION_READERS = tuple(dict.fromkeys((*spot_checks.READERS, *complaints.READERS)))


# --- the Temporal Web UI ---------------------------------------------------------------------
@dataclass(frozen=True)
class WebUi:
    """Links into the Temporal Web UI for operators (``JIUZHU_TEMPORAL_UI_URL``): one workflow by
    its id (the UI opens its latest run), or a list by a visibility query."""

    base: str
    namespace: str

    def workflow(self, workflow_id: str) -> str:
        ns = quote(self.namespace, safe="")
        return f"{self.base}/namespaces/{ns}/workflows/{quote(workflow_id, safe='')}"

    def query(self, query: str) -> str:
        ns = quote(self.namespace, safe="")
        return f"{self.base}/namespaces/{ns}/workflows?query={quote(query, safe='')}"


def _area_clause(area: str) -> str:
    """The visibility filter of an officer's area (the search attributes every case carries)."""
    if len(area) >= 9:
        return f" AND TownshipCode = '{area[:9]}'"
    return f" AND CountyCode = '{area[:6]}'" if len(area) >= 6 else ""


def _web_ui(request: Request) -> WebUi:
    settings: Settings = request.app.state.settings
    return WebUi(settings.temporal_ui_url.rstrip("/"), settings.temporal_namespace)


# --- the navigation (base.html) --------------------------------------------------------------
def _reads_funds(actor: Actor) -> bool:
    """``GET /reserve-funds/{township}`` admits any officer whose area covers the township: a
    village assistant's never does."""
    return len(actor.area_code) <= 9


NAV: tuple[tuple[str, str, Callable[[Actor], bool]], ...] = (
    ("/workbench", "待办", lambda actor: True),
    ("/workbench/payroll", "发放", lambda actor: actor.role in payroll.READERS),
    ("/workbench/reserve-funds", "备用金", _reads_funds),
    ("/workbench/supervision", "监督", lambda actor: actor.role in SUPERVISION_READERS),
    ("/workbench/messages", "消息", lambda actor: True),
)


def nav_links(request: Request) -> list[dict[str, Any]]:
    """The signed-in officer's links (only the pages their role may use), the current one
    marked; nothing before sign-in."""
    actor = getattr(request.state, "actor", None)
    if not isinstance(actor, Actor):
        return []
    path = request.url.path.rstrip("/") or "/"
    return [
        {
            "href": href,
            "label": label,
            "current": path == href or (href != "/workbench" and path.startswith(href + "/")),
        }
        for href, label, may in NAV
        if may(actor)
    ]


templates.env.globals["workbench_nav"] = nav_links


# --- shared helpers ----------------------------------------------------------------------------
def _yuan(value: Decimal | int | str | None) -> str:
    """Money with two places (``1,234.50``); the tables name the unit (元)."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(CENT):,.2f}"


def _day(value: date | str | None) -> str:
    return value.isoformat() if isinstance(value, date) else (value or "")


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _refused(request: Request, actor: Actor, exc: Exception, not_found: str = "") -> Response:
    """The message page for what the API refused, with the API's status."""
    if isinstance(exc, RefusalError):
        status, message = HTTP_STATUS[exc.refusal.kind], exc.refusal.message_zh
    elif isinstance(exc, ProblemError):
        status = exc.status
        message = FIELD_MESSAGES_ZH.get(exc.field or "", STATUS_MESSAGES_ZH.get(status, ""))
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, str(exc.detail)
        message = detail if _chinese(detail) else STATUS_MESSAGES_ZH.get(status, "")
        if status == 404 and not_found:
            message = not_found
    else:
        raise exc
    return _page(
        request,
        "message.html",
        {"officer": _officer_view(actor), "message": message or "无法显示该页面"},
        status=status,
    )


def _officer_names(session: Session, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for officer_id in sorted(ids):
        row = session.get(Officer, officer_id)
        names[officer_id] = f"{row.name}（{officer_id}）" if row is not None else officer_id
    return names


# --- payroll -----------------------------------------------------------------------------------
def _county_for(actor: Actor, asked: str) -> str | None:
    """The county the payroll pages show: the one asked for (checked by the API's
    ``county_checked``), else the officer's own; ``None`` for an officer above county level
    who has not chosen."""
    if asked:
        return asked.strip()
    return actor.area_code[:6] if len(actor.area_code) >= 6 else None


def _counties_under(area: str) -> list[dict[str, str]]:
    return [
        {"code": code, "name": _area_zh(code), "href": f"/workbench/payroll?county={code}"}
        for code, a in sorted(area_registry.AREAS.items())
        if a.level is AreaLevel.COUNTY and code.startswith(area)
    ]


def _county_query(actor: Actor, county: str) -> str:
    return "" if actor.area_code[:6] == county else f"?county={quote(county)}"


def _payroll_overview(
    session: Session, actor: Actor, county: str
) -> tuple[list[PayrollRun], list[BankBatch] | None, dict[str, str]]:
    runs = payroll.list_runs(county, actor, session, offset=0, limit=PAYROLL_MONTHS)
    batches = None
    if actor.role in bank_batches.READERS:
        batches = bank_batches.list_batches(
            actor, session, county_code=county, kind="temporary", offset=0, limit=DAILY_BATCHES
        )
    names = _officer_names(session, {r.funded_by for r in runs if r.funded_by})
    return runs, batches, names


def _run_view(run: PayrollRun, names: dict[str, str], ui: WebUi, suffix: str) -> dict[str, Any]:
    base = f"/workbench/payroll/{run.period}"
    return {
        "period": run.period,
        "href": base + suffix,
        "status": PAYROLL_STATUS_ZH.get(run.status, run.status),
        "reconciled": run.status == PayrollStatus.RECONCILED.value,
        "cutoffs": {
            "data": _day(run.data_cutoff),
            "funds": _day(run.funds_cutoff),
            "credit": _day(run.credit_date),
            "provisional": run.cutoffs_provisional,
        },
        "compiled": (run.compiled_count, _yuan(run.compiled_total)),
        "new_count": run.new_count,
        "retried_count": run.retried_count,
        "paid": (run.paid_count, _yuan(run.paid_total)),
        "failed": (run.failed_count, _yuan(run.failed_total)),
        "held": (run.held_count, _yuan(run.held_total)),
        "flagged_count": run.flagged_count,
        "deaths_found": run.deaths_found,
        "funding": {
            "reference": run.funding_reference,
            "by": names.get(run.funded_by, run.funded_by) if run.funded_by else "",
            "at": at_text(run.funded_at),
        }
        if run.funding_reference
        else None,
        "bank_file": f"{base}/bank-file{suffix}" if run.bank_file else None,
        "reconciliation": f"{base}/reconciliation{suffix}" if run.report_file else None,
        "updated_at": at_text(run.updated_at),
        "web_ui": ui.workflow(run.payroll_id),
    }


def _batch_view(batch: BankBatch, ui: WebUi) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "value_date": _day(batch.value_date),
        "provisional": batch.value_date_provisional,
        "status": DAILY_STATUS_ZH.get(batch.status, batch.status or "—"),
        "lines": (batch.line_count, _yuan(batch.total)),
        "paid": (batch.paid_count, _yuan(batch.paid_total)),
        "failed": (batch.failed_count, _yuan(batch.failed_total)),
        "held": (batch.held_count, _yuan(batch.held_total)),
        "credited_back": (batch.credited_back_count, _yuan(batch.credited_back_total)),
        "bank_error": batch.bank_error or "",
        "web_ui": ui.workflow(batch.workflow_id or batch.batch_id),
    }


@router.get("/payroll", response_class=HTMLResponse)
async def payroll_months(request: Request, county: str = "") -> Response:
    """The county's payroll months and daily bank batches (module docstring)."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    try:
        await require_roles(*payroll.READERS)(actor)
        chosen = _county_for(actor, county)
        if chosen is None:
            return _page(
                request,
                "county_payroll.html",
                {
                    "officer": _officer_view(actor),
                    "county": None,
                    "counties": _counties_under(actor.area_code),
                },
            )
        runs, batches, names = await _database(request).read(_payroll_overview, actor, chosen)
    except REFUSALS as exc:
        return _refused(request, actor, exc)
    ui = _web_ui(request)
    suffix = _county_query(actor, chosen)
    return _page(
        request,
        "county_payroll.html",
        {
            "officer": _officer_view(actor),
            "county": {"code": chosen, "name": _area_zh(chosen)},
            "runs": [_run_view(r, names, ui, suffix) for r in runs],
            "batches": None if batches is None else [_batch_view(b, ui) for b in batches],
            "web_ui_months": ui.query("CaseKind = 'payroll'" + _area_clause(chosen)),
        },
    )


def _payroll_month(
    session: Session, actor: Actor, county: str, period: str
) -> tuple[payroll.PayrollStatusOut, dict[str, str]]:
    status = payroll.payroll_status(county, period, actor, session)
    funded_by = status.run.funded_by if status.run is not None else None
    return status, _officer_names(session, {funded_by} if funded_by else set())


@router.get("/payroll/{period}", response_class=HTMLResponse)
async def payroll_month(request: Request, period: str, county: str = "") -> Response:
    """One payroll month: its run and its totals per programme and status."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    chosen = _county_for(actor, county)
    if chosen is None:
        return RedirectResponse("/workbench/payroll", status_code=HTTP_303_SEE_OTHER)
    try:
        await require_roles(*payroll.READERS)(actor)
        status, names = await _database(request).read(_payroll_month, actor, chosen, period)
    except REFUSALS as exc:
        return _refused(request, actor, exc, not_found=f"{_area_zh(chosen)}没有{period}的发放记录")
    ui = _web_ui(request)
    suffix = _county_query(actor, chosen)
    return _page(
        request,
        "county_payroll_month.html",
        {
            "officer": _officer_view(actor),
            "county": {"code": chosen, "name": _area_zh(chosen)},
            "period": period,
            "back": "/workbench/payroll" + suffix,
            "run": _run_view(status.run, names, ui, suffix) if status.run is not None else None,
            "web_ui": ui.workflow(status.payroll_id),
            "totals": [
                {
                    "programme": _programme_zh(t.programme),
                    "status": PAYMENT_STATUS_ZH.get(t.status, t.status),
                    "count": t.count,
                    "total": _yuan(t.total),
                }
                for t in status.totals
            ],
            "sum": (
                sum(t.count for t in status.totals),
                _yuan(sum(t.total for t in status.totals)),
            ),
            "api": {
                "status": f"/payroll/{chosen}/{period}",
                "bank_file": f"/payroll/{chosen}/{period}/bank-file",
                "reconciliation": f"/payroll/{chosen}/{period}/reconciliation",
            },
        },
    )


def _bank_file(
    session: Session, actor: Actor, county: str, period: str, settings: Settings
) -> Response:
    return payroll.bank_file(county, period, actor, session, settings)


def _reconciliation(
    session: Session, actor: Actor, county: str, period: str, _: Settings
) -> Response:
    return payroll.reconciliation(county, period, actor, session)


async def _download(
    request: Request,
    period: str,
    county: str,
    read: Callable[[Session, Actor, str, str, Settings], Response],
    missing_zh: str,
) -> Response:
    """A month's file through the API's own reader (``read``), for the payroll's readers."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    chosen = _county_for(actor, county) or ""
    try:
        await require_roles(*payroll.READERS)(actor)
        response = await _database(request).read(
            read, actor, chosen, period, request.app.state.settings
        )
    except REFUSALS as exc:
        return _refused(request, actor, exc, not_found=f"{period}的{missing_zh}尚未生成")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/payroll/{period}/bank-file")
async def payroll_bank_file(request: Request, period: str, county: str = "") -> Response:
    """The month's bank file, as ``GET /payroll/{county}/{period}/bank-file`` answers it."""
    return await _download(request, period, county, _bank_file, "银行代发文件")


@router.get("/payroll/{period}/reconciliation")
async def payroll_reconciliation(request: Request, period: str, county: str = "") -> Response:
    """The month's reconciliation report, as ``GET /payroll/{county}/{period}/reconciliation``."""
    return await _download(request, period, county, _reconciliation, "对账报告")


# --- reserve funds ----------------------------------------------------------------------------
def _townships_in(area: str) -> list[str]:
    """The townships of an officer's area: their own (a township or village officer, whom the
    API then admits or refuses), else every registered township under it."""
    if len(area) >= 9:
        return [area[:9]]
    return [
        code
        for code, a in sorted(area_registry.AREAS.items())
        if a.level is AreaLevel.TOWNSHIP and code.startswith(area)
    ]


def _funds(session: Session, actor: Actor, townships: list[str]) -> list[ReserveFundOut]:
    return [
        reserve_fund.get_fund(t, actor, session, offset=0, limit=FUND_PREVIEW) for t in townships
    ]


def _fund_page(session: Session, actor: Actor, township: str, offset: int) -> ReserveFundOut:
    return reserve_fund.get_fund(township, actor, session, offset=offset, limit=LEDGER_PAGE)


def _entry_view(e: LedgerEntryOut, ui: WebUi) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": at_text(e.created_at),
        "iso": to_beijing(e.created_at).isoformat(),
        "direction": DIRECTION_ZH.get(e.direction, e.direction),
        "credit": e.direction == "credit",
        "purpose": PURPOSE_ZH.get(e.purpose, e.purpose),
        "amount": _yuan(e.amount),
        "balance_after": _yuan(e.balance_after),
        "case_id": e.case_id,
        "case_href": f"/workbench/cases/{quote(e.case_id)}" if e.case_id else None,
        "web_ui": ui.workflow(temporary_workflow_id(e.case_id)) if e.case_id else None,
        "who": e.actor_name or "系统",
        "note": e.note_zh,
    }


def _fund_view(fund: ReserveFundOut, ui: WebUi) -> dict[str, Any]:
    code = fund.township_code
    return {
        "township": code,
        "name": _area_zh(code),
        "href": f"/workbench/reserve-funds/{code}",
        "balance": _yuan(fund.balance),
        "opened": fund.total_entries > 0,
        "total_entries": fund.total_entries,
        "entries": [_entry_view(e, ui) for e in fund.entries],
        "web_ui": ui.query(f"CaseKind = 'temporary' AND TownshipCode = '{code}'"),
        "api": f"/reserve-funds/{code}",
    }


@router.get("/reserve-funds", response_class=HTMLResponse)
async def reserve_funds(request: Request) -> Response:
    """Every township fund of the officer's area: balance and latest entries."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    try:
        funds = await _database(request).read(_funds, actor, _townships_in(actor.area_code))
    except REFUSALS as exc:
        return _refused(request, actor, exc)
    ui = _web_ui(request)
    views = [_fund_view(f, ui) for f in funds]
    return _page(
        request,
        "county_funds.html",
        {
            "officer": _officer_view(actor),
            "area": _area_zh(actor.area_code),
            "funds": views,
            "total": _yuan(sum((f.balance for f in funds), Decimal(0))),
            "preview": FUND_PREVIEW,
        },
    )


@router.get("/reserve-funds/{township}", response_class=HTMLResponse)
async def reserve_fund_ledger(request: Request, township: str, offset: str = "0") -> Response:
    """One township's fund: its balance and whole ledger, newest first, a page at a time."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    start = int(offset) if offset.isdigit() and len(offset) <= 7 else -1
    if not (township.isdigit() and len(township) == 9) or start < 0:
        message = "乡镇代码应为9位数字" if start >= 0 else "页码参数无效"
        return _page(
            request, "message.html", {"officer": _officer_view(actor), "message": message}, 422
        )
    try:
        fund = await _database(request).read(_fund_page, actor, township, start)
    except REFUSALS as exc:
        return _refused(request, actor, exc, not_found=f"乡镇{township}不存在")
    ui = _web_ui(request)
    return _page(
        request,
        "county_fund.html",
        {
            "officer": _officer_view(actor),
            "fund": _fund_view(fund, ui),
            "offset": start,
            "previous": max(start - LEDGER_PAGE, 0) if start > 0 else None,
            "next": start + LEDGER_PAGE if start + LEDGER_PAGE < fund.total_entries else None,
        },
    )


# --- supervision ------------------------------------------------------------------------------
def _supervision(
    session: Session, actor: Actor
) -> tuple[spot_checks.SpotCheckPage | None, complaints.ComplaintPage | None]:
    """As ``GET /spot-checks`` and ``GET /complaints`` answer without filters: my area's."""
    rounds = register = None
    if actor.role in spot_checks.READERS:
        rounds = spot_checks.round_page(session, actor.area_code, None, 0, SUPERVISION_ROWS)
    if actor.role in complaints.READERS:
        register = complaints.complaint_page(
            session, actor.area_code, None, None, 0, SUPERVISION_ROWS
        )
    return rounds, register


def _round_view(r: spot_checks.SpotCheckSummary, ui: WebUi) -> dict[str, Any]:
    return {
        "round_id": r.round_id,
        "period": r.period,
        "area": _area_zh(r.county_code),
        "status": ROUND_STATUS_ZH.get(r.status, r.status),
        "open": r.status == SpotCheckStatus.OPEN.value,
        "population": r.population_size,
        "sample": r.sample_size,
        "pending": r.pending,
        "confirmed": r.confirmed,
        "reversed": r.reversed,
        "due": due_text(r.next_deadline),
        "overdue": r.overdue,
        "web_ui": ui.workflow(r.round_id),
    }


def _complaint_view(c: complaints.ComplaintRow, ui: WebUi) -> dict[str, Any]:
    return {
        "complaint_id": c.complaint_id,
        "href": f"/workbench/cases/{quote(c.complaint_id)}",
        "category": CATEGORY_ZH.get(c.category, c.category),
        "channel": CHANNEL_ZH.get(c.channel, c.channel),
        "level": LEVEL_ZH.get(c.level, c.level),
        "responsible": _area_zh(c.responsible_area) if c.responsible_area else "—",
        "area": _area_zh(c.area_code),
        "received_on": c.received_on,
        "due": c.due_date or "—",
        "overdue": c.overdue and c.status != ComplaintStatus.CLOSED.value,
        "escalated": c.escalated,
        "status": COMPLAINT_STATUS_ZH.get(c.status, c.status),
        "replied_on": c.replied_on or "—",
        "anonymous": c.anonymous,
        "web_ui": ui.workflow(complaint_workflow_id(c.complaint_id)),
    }


@router.get("/supervision", response_class=HTMLResponse)
async def supervision(request: Request) -> Response:
    """The area's spot-check rounds and complaints (those the officer's role may read)."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    try:
        await require_roles(*SUPERVISION_READERS)(actor)
        rounds, register = await _database(request).read(_supervision, actor)
    except REFUSALS as exc:
        return _refused(request, actor, exc)
    ui = _web_ui(request)
    return _page(
        request,
        "county_supervision.html",
        {
            "officer": _officer_view(actor),
            "area": _area_zh(actor.area_code),
            "rounds": None if rounds is None else [_round_view(r, ui) for r in rounds.items],
            "rounds_total": rounds.total if rounds else 0,
            "complaints": None
            if register is None
            else [_complaint_view(c, ui) for c in register.items],
            "complaints_total": register.total if register else 0,
            "web_ui_rounds": ui.query("CaseKind = 'spot_check'" + _area_clause(actor.area_code)),
            "web_ui_complaints": ui.query("CaseKind = 'complaint'" + _area_clause(actor.area_code)),
            "shown": SUPERVISION_ROWS,
        },
    )


# --- messages --------------------------------------------------------------------------------
PAYROLL_CASE = re.compile(r"^payroll-(\d{6})-(\d{4}-\d{2})$")


def _case_href(case_id: str | None, cases: set[str]) -> str | None:
    """Where a message's case opens: a payroll month on its page, a case of the read model on
    the case page; anything else (a campaign, a daily batch) only in the Web UI."""
    if not case_id:
        return None
    month = PAYROLL_CASE.match(case_id)
    if month:
        return f"/workbench/payroll/{month[2]}?" + urlencode({"county": month[1]})
    return f"/workbench/cases/{quote(case_id)}" if case_id in cases else None


def _known_cases(session: Session, case_ids: list[str]) -> set[str]:
    if not case_ids:
        return set()
    rows = session.exec(select(CaseRecord.case_id).where(col(CaseRecord.case_id).in_(case_ids)))
    return set(rows.all())


def _message_view(m: MessageOut, ui: WebUi, cases: set[str]) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": MESSAGE_KIND_ZH.get(m.kind, m.kind),
        "escalation": m.kind == "escalation",
        "text": m.message_zh,
        "area": _area_zh(m.recipient_area),
        "case_id": m.case_id,
        "case_href": _case_href(m.case_id, cases),
        "due": due_text(m.due_at),
        "created": at_text(m.created_at),
        "acknowledged": at_text(m.acknowledged_at),
        "web_ui": ui.workflow(m.workflow_id) if m.workflow_id else None,
    }


@router.get("/messages", response_class=HTMLResponse)
async def messages(
    request: Request, kind: str = "", unread: str = "", offset: str = "0", done: str = ""
) -> Response:
    """My reminders and escalations, newest first, as ``GET /me/messages`` gives them."""
    actor = await officer_for(request, session_token(request))
    if actor is None:
        return to_sign_in()
    errors: dict[str, str] = {}
    kind = kind.strip()
    if kind and kind not in MESSAGE_KIND_ZH:
        errors["kind"] = f"未知的消息类别{kind}"
    start = int(offset) if offset.isdigit() and len(offset) <= 7 else -1
    if start < 0:
        errors["offset"] = "页码参数无效"
    only_unread = unread in ("1", "on", "true")
    page = None
    if not errors:
        page = await _database(request).read(
            outbox.message_page,
            actor,
            kind or None,
            None,
            True if only_unread else None,
            start,
            MESSAGES_PAGE,
        )
    ui = _web_ui(request)
    ids = [m.case_id for m in page.items if m.case_id] if page is not None else []
    cases = await _database(request).read(_known_cases, ids)
    filters = {k: v for k, v in (("kind", kind), ("unread", "1" if only_unread else "")) if v}

    def at(start_at: int) -> str:
        return "/workbench/messages?" + urlencode({**filters, "offset": start_at})

    return _page(
        request,
        "messages.html",
        {
            "officer": _officer_view(actor),
            "kinds": list(MESSAGE_KIND_ZH.items()),
            "form": {"kind": kind, "unread": only_unread},
            "errors": errors,
            "items": [] if page is None else [_message_view(m, ui, cases) for m in page.items],
            "total": page.total if page else 0,
            "previous": at(max(start - MESSAGES_PAGE, 0)) if page and start > 0 else None,
            "next": at(start + MESSAGES_PAGE)
            if page and start + MESSAGES_PAGE < page.total
            else None,
            "back": "/workbench/messages" + (f"?{urlencode(filters)}" if filters else ""),
            "done": done.isdigit(),
        },
        status=422 if errors else 200,
    )


def _acknowledge(session: Session, message_id: int, actor: Actor) -> MessageOut:
    return outbox.acknowledge(message_id, actor, session)


@router.post("/messages/{message_id}/acknowledge")
async def acknowledge_message(
    request: Request,
    message_id: str,
    csrf: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Mark one of my messages read (idempotent, as ``POST /me/messages/{id}/acknowledge``);
    the form's CSRF token is required (403 without it)."""
    token = session_token(request)
    actor = await officer_for(request, token)
    if actor is None or token is None:
        return to_sign_in()
    if not csrf_ok(token, csrf):
        return stale_form(request)
    number = int(message_id) if message_id.isdigit() and len(message_id) <= 15 else 0
    try:
        if number < 1:
            raise HTTPException(404)
        await _database(request).write(_acknowledge, number, actor)
    except REFUSALS as exc:
        return _refused(request, actor, exc, not_found=f"消息{message_id}不存在或不是发给您的")
    target = back if back.startswith("/workbench/messages") else "/workbench/messages"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={number}", status_code=HTTP_303_SEE_OTHER)


__all__ = ["router"]
