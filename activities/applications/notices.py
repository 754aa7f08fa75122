"""Notices of an application. Issuing validates the notice and stores its content (the payload:
what the notice says, with its title) once per notice id. The HTML (``rules.notices``, plus two
local kinds defined here: the notice ending a review for refusal to cooperate, 低保办法 Art. 29,
and the refusal of temporary assistance with free-text reasons, 民发〔2018〕23号) and the PDF
(``jiuzhu.notices_pdf``) are renderings of that content, made on first download and stored with
it. Rendering is kept off the case's critical path: compiling the templates costs milliseconds
per notice, a PDF about a second."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from jiuzhu.contract import Actor
from jiuzhu.db.models_application import ApplicationNotice
from jiuzhu.notices_pdf import render_document_pdf, render_notice_pdf
from rules.id_number import mask_id_fields
from rules.legal_basis import citation_lines, legal_basis
from rules.money import format_yuan
from rules.notices import (
    NOTICE_ADAPTER,
    TEMPLATE_PARTIALS,
    date_zh,
    notice_title,
    render_notice_html,
)
from rules.periods import Period
from rules.programmes import Programme, programme_name_zh


# --- payloads ----------------------------------------------------------------------------
class NoticeRef(BaseModel):
    notice_id: str
    kind: str
    title: str
    issued_at: datetime
    delivered_on: date | None = None
    delivery_method: str | None = None


LOCAL_KINDS = ("review_terminated", "temporary_refusal")


class _LocalNotice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1, description="The case (kept, never printed)")
    authority: str = Field(min_length=1)
    issued_on: date
    document_number: str | None = Field(default=None, min_length=1, description="文号")
    applicant_name: str = Field(min_length=1)
    review_authority: str = Field(min_length=1)
    court: str = Field(min_length=1)
    review_period: Period
    lawsuit_period: Period


class ReviewTerminatedNotice(_LocalNotice):
    """终止审核确认: the review ends because the household refused to cooperate with the
    investigation or verification (低保办法 Art. 29), with reasons and appeal rights."""

    kind: Literal["review_terminated"] = "review_terminated"
    programme: Programme
    applied_on: date
    ended_on: date
    grounds_zh: list[str] = Field(min_length=1)
    basis: str


class TemporaryRefusalNotice(_LocalNotice):
    """不予临时救助: written refusal with reasons (民发〔2018〕23号)."""

    kind: Literal["temporary_refusal"] = "temporary_refusal"
    applied_on: date
    decided_on: date
    requested_amount: Decimal | None = None
    reasons_zh: list[str] = Field(min_length=1)


LocalNotice = ReviewTerminatedNotice | TemporaryRefusalNotice


class IssueNotice(BaseModel):
    notice_id: str
    case_id: str
    workflow_id: str
    kind: str
    payload: dict[str, Any]
    issued_by: Actor | None = None


class DeliveryRecord(BaseModel):
    notice_id: str
    delivered_on: date
    method: str
    recipient_name: str


# --- local kinds --------------------------------------------------------------------------
_LOCAL_TEMPLATES = {
    **TEMPLATE_PARTIALS,
    "review_terminated": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>你于{{ n.applied_on | date_zh }}提出的{{ n.programme | programme }}申请，因申请家庭\
拒不配合家庭经济状况调查或信息核对，于{{ n.ended_on | date_zh }}终止审核确认。\
具体情形如下：</p>
<ol>
{% for g in n.grounds_zh %}<li>{{ g }}</li>
{% endfor %}</ol>
<p>如家庭情况确有困难，可在配合调查核实的前提下重新提出申请。</p>
{% include "appeal" %}
{% include "signature" %}""",
    "temporary_refusal": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>你于{{ n.applied_on | date_zh }}提出的临时救助申请\
{% if n.requested_amount is not none %}（申请金额{{ n.requested_amount | yuan }}）{% endif %}，\
经调查核实，于{{ n.decided_on | date_zh }}决定不予救助。理由如下：</p>
<ol>
{% for r in n.reasons_zh %}<li>{{ r }}</li>
{% endfor %}</ol>
{% include "appeal" %}
{% include "signature" %}""",
}

_LOCAL_TITLES = {
    "review_terminated": "终止社会救助审核确认通知书",
    "temporary_refusal": "不予临时救助通知书",
}


def _period(p: Period) -> str:
    return p.describe_zh()


def _environment() -> Environment:
    env = Environment(
        loader=DictLoader(_LOCAL_TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    env.filters.update(
        date_zh=date_zh,
        period=_period,
        yuan=format_yuan,
        programme=lambda p: programme_name_zh(p),
    )
    return env


def _local(kind: str, payload: dict[str, Any]) -> LocalNotice:
    if kind == "review_terminated":
        return ReviewTerminatedNotice.model_validate(payload)
    return TemporaryRefusalNotice.model_validate(payload)


def _local_basis(notice: LocalNotice) -> str:
    """The table's citations (``rules.legal_basis``): 低保办法 Art. 29 for an ended review,
    the temporary-assistance documents for a refusal of temporary aid, with appeal rights."""
    if isinstance(notice, ReviewTerminatedNotice):
        return citation_lines(legal_basis(notice.kind, notice.programme))
    return citation_lines(legal_basis(notice.kind, Programme.TEMPORARY))


def _local_matter(notice: LocalNotice) -> str:
    if isinstance(notice, ReviewTerminatedNotice):
        return f"{notice.applicant_name}申请{programme_name_zh(notice.programme)}"
    return f"{notice.applicant_name}申请临时救助"


def _local_body(notice: LocalNotice) -> str:
    env = _environment()
    return env.get_template(notice.kind).render(
        n=notice,
        title=_LOCAL_TITLES[notice.kind],
        basis=_local_basis(notice),
        decision=True,
        matter=_local_matter(notice),
        recipient=notice.applicant_name,
    )


def title_of(kind: str, payload: dict[str, Any]) -> str:
    """Validate a notice payload and return its title (``ValueError`` if invalid)."""
    if kind in LOCAL_KINDS:
        _local(kind, payload)
        return _LOCAL_TITLES[kind]
    return notice_title(NOTICE_ADAPTER.validate_python(payload))


def render(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """Title and full HTML of a notice payload."""
    if kind in LOCAL_KINDS:
        notice = _local(kind, payload)
        title = _LOCAL_TITLES[kind]
        html = (
            _environment()
            .get_template("layout")
            .render(title=title, body=Markup(_local_body(notice)))
        )
        return title, html
    rules_notice = NOTICE_ADAPTER.validate_python(payload)
    return notice_title(rules_notice), render_notice_html(rules_notice)


def render_pdf(kind: str, payload: dict[str, Any]) -> bytes:
    """The PDF of a notice payload (A4, CJK fonts embedded); ``MissingGlyphs`` (naming the
    payload's fields) if a character cannot be printed."""
    if kind not in LOCAL_KINDS:
        return render_notice_pdf(NOTICE_ADAPTER.validate_python(payload))
    notice = _local(kind, payload)
    return render_document_pdf(
        _LOCAL_TITLES[kind], notice.authority, _local_body(notice), notice.model_dump(mode="json")
    )


def html_for(engine: Engine, notice_id: str) -> str | None:
    """The HTML of a notice, rendered and stored on first request."""
    with Session(engine) as session:
        row = session.get(ApplicationNotice, notice_id)
        if row is None:
            return None
        if row.html is None:
            row.html = render(row.kind, row.payload)[1]
            session.add(row)
            session.commit()
        return row.html


def pdf_for(engine: Engine, notice_id: str) -> bytes | None:
    """The stored PDF of a notice, rendered and stored on first request."""
    with Session(engine) as session:
        row = session.get(ApplicationNotice, notice_id)
        if row is None:
            return None
        if row.pdf is None:
            row.pdf = render_pdf(row.kind, row.payload)
            session.add(row)
            session.commit()
        return row.pdf


class NoticeActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="application_issue_notice")
    def issue_notice(self, req: IssueNotice) -> NoticeRef:
        """Render and store a notice once per ``notice_id`` (a retry returns the stored one)."""
        # expire_on_commit=False: the answer is built from the row just written, not read again
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(ApplicationNotice, req.notice_id)
            if row is None:
                try:
                    title = title_of(req.kind, req.payload)
                except ValueError as exc:  # a bug in the notice built: retrying cannot help
                    raise ApplicationError(
                        f"invalid {req.kind} notice: {exc}",
                        type="InvalidNotice",
                        non_retryable=True,
                    ) from exc
                row = ApplicationNotice(
                    notice_id=req.notice_id,
                    case_id=req.case_id,
                    workflow_id=req.workflow_id,
                    kind=req.kind,
                    title=title,
                    payload=mask_id_fields(req.payload),  # ID numbers as printed: masked
                    issued_by=req.issued_by.officer_id if req.issued_by else None,
                    issued_at=datetime.now(UTC),
                )
                session.add(row)
                session.commit()
            issued_at = row.issued_at
            if issued_at.tzinfo is None:  # SQLite returns naive UTC
                issued_at = issued_at.replace(tzinfo=UTC)
            return NoticeRef(
                notice_id=req.notice_id, kind=req.kind, title=row.title, issued_at=issued_at
            )

    @activity.defn(name="application_record_delivery")
    def record_delivery(self, req: DeliveryRecord) -> None:
        with Session(self.engine) as session:
            row = session.get(ApplicationNotice, req.notice_id)
            if row is None:
                return
            row.delivered_on = req.delivered_on
            row.delivery_method = req.method
            row.delivered_to = req.recipient_name
            session.add(row)
            session.commit()
