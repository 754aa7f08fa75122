"""The county payroll (DOMAIN §5 payment calendar): a month's status and totals per programme,
finance's funding confirmation, trigger and backfill through the county's Temporal Schedule, and
the bank file and reconciliation report as downloads."""

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, TypeVar

import structlog
from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import text
from sqlmodel import col, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SessionDep, SettingsDep, TemporalClientDep, ensure_area, require_roles
from api.errors import field_error
from api.masking import Disclosure, disclosure, mask_bank_line
from api.routes.entitlements import run_update
from api.validators import LongLimit, Offset, PayrollPeriod, PositiveMoney, ShortText
from jiuzhu.at_rest import files_ring, read_clear
from jiuzhu.clock import beijing_today
from jiuzhu.codec import CodecKeyError, key_ring
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_payments import PayrollRun
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind, refusal_of
from jiuzhu.schedules import start_month
from jiuzhu.settings import Settings
from rules.areas import AreaLevel, get_area, is_known_area
from workflows.payments.checks import check_funding, check_payroll_resubmit
from workflows.payments.contract import payroll_workflow_id
from workflows.payments.models import FundingConfirmation, PayrollState, ResubmitBatch
from workflows.payments.payroll import PayrollWorkflow

router = APIRouter(prefix="/payroll", tags=["payroll"])
Step = TypeVar("Step", FundingConfirmation, ResubmitBatch)

READERS = (Role.COUNTY_OFFICER, Role.FINANCE, Role.AUDITOR, Role.ADMIN)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
Finance = Annotated[Actor, Depends(require_roles(Role.FINANCE))]
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def county_checked(actor: Actor, county: str) -> str:
    if not re.fullmatch(r"\d{6}", county) or not is_known_area(county):
        raise field_error("county_code", f"unknown county {county!r}")
    if get_area(county).level is not AreaLevel.COUNTY:
        raise field_error("county_code", f"{county} is not a county")
    ensure_area(actor, county)
    return county


def period_checked(period: str) -> tuple[int, int]:
    m = PERIOD.fullmatch(period)
    if m is None:
        raise field_error("period", "period is YYYY-MM")
    return int(m.group(1)), int(m.group(2))


class ProgrammeStatusTotal(BaseModel):
    programme: str
    status: str
    count: int
    total: Decimal


class PayrollStatusOut(BaseModel):
    payroll_id: str
    county_code: str
    period: str
    run: PayrollRun | None
    totals: list[ProgrammeStatusTotal]


class FundingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney = Field(gt=0, max_digits=14, decimal_places=2)
    reference: ShortText = Field(min_length=1, max_length=100)


class BackfillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: PayrollPeriod = Field(description="first month, YYYY-MM")
    until: PayrollPeriod | None = Field(
        default=None, description="last month, YYYY-MM (default: period)"
    )

    @field_validator("period", "until")
    @classmethod
    def _period(cls, v: str | None) -> str | None:
        if v is not None and not PERIOD.fullmatch(v):
            raise ValueError("a month is YYYY-MM")
        return v

    @model_validator(mode="after")
    def _order(self) -> "BackfillIn":
        if self.until is not None and self.until < self.period:
            raise ValueError("until is before period")
        if self.until is not None:
            y0, m0 = map(int, self.period.split("-"))
            y1, m1 = map(int, self.until.split("-"))
            if (y1 * 12 + m1) - (y0 * 12 + m0) > 24:
                raise ValueError("at most 24 months at once")
        return self


class Accepted(BaseModel):
    """The months asked for: ``workflow_ids`` each month's one workflow; ``started`` those this
    call started, ``already`` those that had their workflow already (running, or closed after it
    compiled or paid — a month is never run twice; its record stands)."""

    workflow_ids: list[str]
    started: list[str]
    already: list[str]


def run_row(session: SessionDep, payroll_id: str) -> PayrollRun | None:
    return session.get(PayrollRun, payroll_id)


@router.get("/{county_code}", response_model=list[PayrollRun])
def list_runs(
    county_code: str,
    actor: Reader,
    session: SessionDep,
    offset: Offset = 0,
    limit: LongLimit = 60,
) -> list[PayrollRun]:
    """The county's payroll runs, newest month first (60 at a time by default)."""
    county_checked(actor, county_code)
    return list(
        session.exec(
            select(PayrollRun)
            .where(PayrollRun.county_code == county_code)
            .order_by(col(PayrollRun.period).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    )


@router.get("/{county_code}/{period}", response_model=PayrollStatusOut)
def payroll_status(
    county_code: str, period: str, actor: Reader, session: SessionDep
) -> PayrollStatusOut:
    """The month's run (status, cut-offs, funding, bank, reconciliation) and its totals per
    programme and status."""
    county_checked(actor, county_code)
    y, m = period_checked(period)
    pid = payroll_workflow_id(county_code, y, m)
    rows = session.execute(
        text(
            "SELECT programme, status, COUNT(*), SUM(amount) FROM payment_instruction "
            "WHERE payroll_id = :p GROUP BY programme, status ORDER BY programme, status"
        ),
        {"p": pid},
    ).all()
    totals = [
        ProgrammeStatusTotal(
            programme=r[0],
            status=r[1],
            count=int(r[2]),
            total=Decimal(str(r[3] or 0)).quantize(Decimal("0.01")),
        )
        for r in rows
    ]
    run = run_row(session, pid)
    if run is None and not totals:
        raise HTTPException(404, f"no payroll for {county_code} {period}")
    return PayrollStatusOut(
        payroll_id=pid, county_code=county_code, period=period, run=run, totals=totals
    )


async def _month_handle(
    client: TemporalClientDep, actor: Actor, county_code: str, period: str
) -> WorkflowHandle[PayrollWorkflow, PayrollState]:
    county_checked(actor, county_code)
    y, m = period_checked(period)
    handle = client.get_workflow_handle_for(
        PayrollWorkflow.run, payroll_workflow_id(county_code, y, m)
    )
    try:
        await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"no payroll for {county_code} {period}") from exc
        raise
    return handle


@router.post("/{county_code}/{period}/funding", response_model=PayrollState)
async def confirm_funding(
    county_code: str,
    period: str,
    body: FundingIn,
    actor: Finance,
    client: TemporalClientDep,
) -> PayrollState:
    """County finance confirms it funded the paying bank with exactly the month's total. Once,
    also after the month has ended: the same confirmation again answers the month's state,
    another reference is 409 naming the recorded one."""
    handle = await _month_handle(client, actor, county_code, period)
    confirmation = FundingConfirmation(actor=actor, **body.model_dump())
    ended = await _ended_state(handle)
    if ended is not None:
        _refused_as_the_update_would(check_funding, ended, confirmation)  # a repeat passes
        return ended
    await run_update(
        handle,
        PayrollWorkflow.confirm_funding,
        confirmation,
    )
    state: PayrollState = await handle.query(PayrollWorkflow.get_state)
    return state


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_zh: ShortText = Field(min_length=1, max_length=500)


@router.post("/{county_code}/{period}/resubmit", response_model=PayrollState)
async def resubmit(
    county_code: str,
    period: str,
    body: ResubmitIn,
    actor: Finance,
    client: TemporalClientDep,
) -> PayrollState:
    """County finance re-sends a month whose bank answer could not be read (only from
    ``bank_error``, else 409; audited): the lines still unanswered go again and the bank
    credits each reference once. The only way a month that moved money is re-opened."""
    handle = await _month_handle(client, actor, county_code, period)
    resubmission = ResubmitBatch(actor=actor, reason_zh=body.reason_zh)
    ended = await _ended_state(handle)
    if ended is not None:  # a reconciled month: refused naming its state
        _refused_as_the_update_would(check_payroll_resubmit, ended, resubmission)
        raise RefusalError(
            Refusal(
                kind=RefusalKind.WRONG_STATE,
                message_zh=f"{ended.period}救助金发放已结束，不能重新报送",
            )
        )
    await run_update(handle, PayrollWorkflow.resubmit, resubmission)
    state: PayrollState = await handle.query(PayrollWorkflow.get_state)
    return state


async def _ended_state(
    handle: WorkflowHandle[PayrollWorkflow, PayrollState],
) -> PayrollState | None:
    """The month's final state once its workflow has closed (no Update reaches it then)."""
    if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        return None
    state: PayrollState = await handle.query(PayrollWorkflow.get_state)
    return state


def _refused_as_the_update_would(
    check: Callable[[PayrollState, Step], None], state: PayrollState, inp: Step
) -> None:
    """Run the Update's own check against a closed month's state: its refusal (403/409/422)
    as the Update would have answered it."""
    try:
        check(state, inp)
    except ApplicationError as exc:
        refusal = refusal_of(exc)
        if refusal is None:
            raise
        raise RefusalError(refusal) from None


@router.post("/{county_code}/trigger", status_code=202, response_model=Accepted)
async def trigger(
    county_code: str, actor: Admin, client: TemporalClientDep, settings: SettingsDep
) -> Accepted:
    """Start the current month's payroll now (Beijing time), unless the month has its workflow."""
    county_checked(actor, county_code)
    today = beijing_today()
    return await _start_months(client, settings, county_code, [(today.year, today.month)])


@router.post("/{county_code}/backfill", status_code=202, response_model=Accepted)
async def backfill(
    county_code: str,
    body: BackfillIn,
    actor: Admin,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> Accepted:
    """Start one month's payroll, or each month of a range, with the month's own id; a month
    that already has its workflow is left as it is (``already``)."""
    county_checked(actor, county_code)
    y, m = period_checked(body.period)
    y1, m1 = period_checked(body.until or body.period)
    months = [divmod(i, 12) for i in range(y * 12 + m - 1, y1 * 12 + m1)]
    return await _start_months(client, settings, county_code, [(yy, mm + 1) for yy, mm in months])


async def _start_months(
    client: Client, settings: Settings, county_code: str, months: list[tuple[int, int]]
) -> Accepted:
    ids, started, already = [], [], []
    for year, month in months:
        wid = payroll_workflow_id(county_code, year, month)
        ids.append(wid)
        if await start_month(client, county_code, settings.task_queue, year, month):
            started.append(wid)
        else:
            already.append(wid)
    structlog.get_logger("jiuzhu.api").info(
        "payroll months started", started=started, already=already
    )
    return Accepted(workflow_ids=ids, started=started, already=already)


def _file(session: SessionDep, county: str, period: str, attr: str) -> Path:
    y, m = period_checked(period)
    run = run_row(session, payroll_workflow_id(county, y, m))
    value = getattr(run, attr) if run is not None else None
    if not value or not Path(value).exists():
        raise HTTPException(404, f"no such file yet for {county} {period}")
    return Path(value)


@router.get("/{county_code}/{period}/bank-file")
def bank_file(
    county_code: str, period: str, actor: Reader, session: SessionDep, settings: SettingsDep
) -> Response:
    """The bank file handed to the paying bank (format in activities/bank.py): the month's
    lines and total. Sealed at rest once reconciled (``jiuzhu/at_rest.py``) and decrypted here;
    accounts and ID numbers in clear for finance only, masked for every other reader (PIPL
    Art. 28, 51; ``api/masking.py``)."""
    county_checked(actor, county_code)
    y, m = period_checked(period)
    run = run_row(session, payroll_workflow_id(county_code, y, m))
    if run is None or not run.bank_file:
        raise HTTPException(404, f"no such file yet for {county_code} {period}")
    path = Path(run.bank_file)
    try:
        raw = read_clear(path, files_ring(key_ring(settings)))
    except FileNotFoundError as exc:
        raise HTTPException(404, f"no such file yet for {county_code} {period}") from exc
    except CodecKeyError as exc:
        raise HTTPException(
            410, f"银行代发文件{path.name}已加密存档，无法解密，请联系管理员"
        ) from exc
    seen = Disclosure(True, True) if actor.role is Role.FINANCE else disclosure(actor)
    text_ = raw.decode("utf-8")
    if not seen.everything:
        text_ = "\n".join(mask_bank_line(line, seen) for line in text_.split("\n"))
    return Response(
        text_,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
    )


@router.get("/{county_code}/{period}/reconciliation")
def reconciliation(
    county_code: str, period: str, actor: Reader, session: SessionDep
) -> FileResponse:
    """The reconciliation report: one CSV line per instruction, paid or failed with reason."""
    county_checked(actor, county_code)
    path = _file(session, county_code, period, "report_file")
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=path.name)
