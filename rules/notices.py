"""The written documents the law requires, rendered as Chinese HTML from Jinja2 templates held
in this module (no file reads).

- ``MissingDocumentsNotice`` — 一次性告知 of everything missing (低保办法 Art. 10).
- ``ApprovalNotice`` — approval with amount and start month (低保办法 Art. 20; 特困办法 Art. 16).
- ``RefusalNotice`` — refusal with reasons and legal basis, delivered within 3 working days
  (低保办法 Art. 21; 特困办法 Art. 17), with the right to administrative review within 60 days
  (《行政复议法》第二十条) or suit within 6 months (《行政诉讼法》第四十六条), 低保办法 Art. 38.
- ``ReductionNotice`` / ``SuspensionNotice`` / ``TerminationNotice`` — 减发/停发/终止 only on a
  legal ground with written reasons (低保办法 Art. 32; 特困办法 Art. 24–27; seed 002).
- ``EdgeRecognitionNotice`` — tells a refused applicant they fit 低保边缘/刚性支出困难 and will be
  recognised within 3 working days of consenting (豫政办〔2022〕103号 二(二)3, seed 000).
- ``PublicityList`` — 公示 with masked names and identity numbers, household size and amount,
  the publicity period and the objection channel (低保办法 Art. 19, 23–24; seed 002).

``Notice`` is a discriminated union on ``kind``; ``NOTICE_ADAPTER`` validates raw data into it.
``render_notice_html`` gives a full HTML document; ``render_notice_body_html`` only the body
(used for PDF). Autoescaping is on: every value is escaped.

Every notice is fit for a file (issue 13 item 8): its legal basis is exactly the documents and
articles of ``rules.legal_basis`` for its kind and programme, each once; the authorities are
named from the area registry (``rules.authorities``); no internal id is printed (``case_id`` and
``policy_version_id`` stay in the record; a 文号 ``document_number`` is printed when there is
one); the signature carries a seal area (盖章); and a decision — approval, refusal, reduction,
suspension, termination — ends with a delivery receipt (送达回证) for the township that delivers
it (低保办法 Art. 21: delivered through the township).
"""

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Literal

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from rules.household import CARE_TIER_NAMES_ZH, CareTier
from rules.id_number import mask_id_number, mask_name
from rules.legal_basis import (
    ADVERSE_KINDS,
    citation_lines,
    legal_basis,
    local_documents,
)
from rules.money import Money, format_yuan
from rules.periods import Period, calendar_days, months, working_days
from rules.programmes import Programme, programme_name_zh
from rules.reasons import Reason

__all__ = [
    "DECISION_KINDS",
    "NOTICE_ADAPTER",
    "TEMPLATE_PARTIALS",
    "ApprovalNotice",
    "EdgeRecognitionNotice",
    "MissingDocumentsNotice",
    "Notice",
    "PublicityList",
    "PublicityRow",
    "ReductionNotice",
    "RefusalNotice",
    "StatedReason",
    "SuspensionNotice",
    "TerminationNotice",
    "notice_basis",
    "notice_matter",
    "notice_title",
    "render_notice_body_html",
    "render_notice_html",
]

REVIEW_LAW = "《中华人民共和国行政复议法》第二十条"
LAWSUIT_LAW = "《中华人民共和国行政诉讼法》第四十六条"


DECISION_KINDS: frozenset[str] = frozenset(
    {"approval", "refusal", "reduction", "suspension", "termination", *ADVERSE_KINDS}
)
"""Notices that are decisions: these end with a delivery receipt (送达回证)."""


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(
        min_length=1, description="Case, application or list reference (kept, never printed)"
    )
    authority: str = Field(min_length=1, description="Issuing authority, e.g. 演示县民政局")
    issued_on: date
    document_number: str | None = Field(
        default=None,
        min_length=1,
        description="文号 printed on the notice, e.g. 演民救〔2026〕12号 (internal ids never are)",
    )


class _Letter(_Document):
    applicant_name: str = Field(min_length=1)


class StatedReason(BaseModel):
    """A reason without a machine code (e.g. three unjustified refusals of suitable work, a
    member's death): its words and, where known, the rule it rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text_zh: str = Field(min_length=1)
    basis: str | None = None


NoticeReason = Reason | StatedReason
"""A coded reason (``rules.reasons``) or a stated one; a dict with ``code`` is a ``Reason``."""


class _AppealRights(BaseModel):
    """The statutory right to challenge an adverse decision (低保办法 Art. 38)."""

    review_authority: str = Field(min_length=1, description="e.g. 演示县人民政府")
    court: str = Field(min_length=1, description="e.g. 演示县人民法院")
    review_period: Period = Field(default_factory=lambda: calendar_days(60))
    lawsuit_period: Period = Field(default_factory=lambda: months(6))


class MissingDocumentsNotice(_Letter):
    """一次性告知: one notice listing every missing document (低保办法 Art. 10)."""

    kind: Literal["missing_documents"] = "missing_documents"
    programme: Programme
    township: str = Field(min_length=1)
    received_on: date
    missing_documents: list[str] = Field(min_length=1)
    submit_by: date | None = None
    contact: str = ""


class ApprovalNotice(_Letter):
    """Approval: amount from the start month (payment from the month after the decision)."""

    kind: Literal["approval"] = "approval"
    programme: Programme
    single_person: bool = False
    monthly_amount: Money
    members_covered: int = Field(ge=1)
    start_month: date
    decided_on: date
    policy_basis: str = Field(
        default="",
        description='Documents of the policy layers ("；"-joined); only the local ones are '
        "printed, as the basis of the standard — the national basis comes from the table",
    )
    policy_version_id: str | None = Field(
        default=None, description="The policy version the case ran under (kept, never printed)"
    )
    township: str | None = Field(
        default=None, description="Township authority told of changes: 演示县城关镇人民政府"
    )
    payment_channel: str = "社会保障卡（一卡通）"
    payment_day: int = Field(default=10, ge=1, le=28)
    care_tier: CareTier | None = None
    review_period: Period | None = None


class RefusalNotice(_Letter, _AppealRights):
    """不予确认: written reasons with legal basis, and appeal rights (低保办法 Art. 21, 38)."""

    kind: Literal["refusal"] = "refusal"
    programme: Programme
    single_person: bool = False
    applied_on: date
    decided_on: date
    reasons: list[NoticeReason] = Field(min_length=1)


class ReductionNotice(_Letter, _AppealRights):
    """减发: a lower amount from a month, with reasons (低保办法 Art. 32)."""

    kind: Literal["reduction"] = "reduction"
    programme: Programme
    previous_amount: Money
    new_amount: Money
    effective_month: date
    reasons: list[NoticeReason] = Field(min_length=1)


class SuspensionNotice(_Letter, _AppealRights):
    """停发: payments stop from a month, with reasons (低保办法 Art. 32; seed 002)."""

    kind: Literal["suspension"] = "suspension"
    programme: Programme
    effective_month: date
    reasons: list[NoticeReason] = Field(min_length=1)


class TerminationNotice(_Letter, _AppealRights):
    """终止: assistance ends, with reasons; optional gradual withdrawal (渐退期) and referral to
    other assistance (特困办法 Art. 24–27; 低保办法 Art. 32–33)."""

    kind: Literal["termination"] = "termination"
    programme: Programme
    effective_month: date
    reasons: list[NoticeReason] = Field(min_length=1)
    withdrawal_until: date | None = None
    referral: str | None = None


class EdgeRecognitionNotice(_Letter):
    """Tells a refused applicant they fit 低保边缘 or 刚性支出困难, and that with their consent
    they are recognised within ``recognition_period`` (豫政办〔2022〕103号 二(二)3)."""

    kind: Literal["edge_recognition"] = "edge_recognition"
    refused_programme: Programme
    offered_programme: Literal[Programme.DIBAO_EDGE, Programme.RIGID_EXPENSE]
    recognition_period: Period = Field(default_factory=lambda: working_days(3))
    reply_by: date | None = None
    township: str | None = Field(default=None, description="The township authority to reply to")
    benefits: list[str] = Field(
        default_factory=lambda: ["医疗救助", "教育救助", "住房救助", "就业救助", "临时救助"]
    )


class PublicityRow(BaseModel):
    """One household on a publicity list. Name and identity number are masked on rendering."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    id_number: str = Field(min_length=1)
    household_size: int = Field(ge=1)
    monthly_amount: Money


class PublicityList(_Document):
    """公示 in the village/community: masked names and identity numbers (低保办法 Art. 19,
    23–24; 焦民〔2022〕154号 第十一条 "保护个人隐私")."""

    kind: Literal["publicity"] = "publicity"
    programme: Programme
    village: str = Field(min_length=1)
    period_start: date
    period_end: date
    rows: list[PublicityRow] = Field(min_length=1)
    objection_channel: str = Field(min_length=1, description="Where to object: office, phone")
    complaints_hotline: str = "12345"


Notice = Annotated[
    MissingDocumentsNotice
    | ApprovalNotice
    | RefusalNotice
    | ReductionNotice
    | SuspensionNotice
    | TerminationNotice
    | EdgeRecognitionNotice
    | PublicityList,
    Field(discriminator="kind"),
]

NOTICE_ADAPTER: TypeAdapter[Notice] = TypeAdapter(Notice)


# Formatting helpers (also used as Jinja filters) -------------------------------------------


def date_zh(d: date) -> str:
    """``2026-03-05`` → ``"2026年3月5日"``."""
    return f"{d.year}年{d.month}月{d.day}日"


def month_zh(d: date) -> str:
    """``2026-03-01`` → ``"2026年3月"``."""
    return f"{d.year}年{d.month}月"


def _yuan(value: Decimal) -> str:
    return format_yuan(value)


def _programme(programme: Programme, single_person: bool = False) -> str:
    return programme_name_zh(programme, single_person=single_person)


def _care_tier(tier: CareTier) -> str:
    return CARE_TIER_NAMES_ZH[tier]


def _period(period: Period) -> str:
    return period.describe_zh()


def notice_title(notice: Notice) -> str:
    """The document title, e.g. "不予确认最低生活保障通知书"."""
    if isinstance(notice, MissingDocumentsNotice):
        return "社会救助申请材料一次性告知书"
    if isinstance(notice, ApprovalNotice):
        return f"{_programme(notice.programme, notice.single_person)}审核确认通知书"
    if isinstance(notice, RefusalNotice):
        return f"不予确认{_programme(notice.programme, notice.single_person)}通知书"
    if isinstance(notice, ReductionNotice):
        return f"{_programme(notice.programme)}减发通知书"
    if isinstance(notice, SuspensionNotice):
        return f"{_programme(notice.programme)}停发通知书"
    if isinstance(notice, TerminationNotice):
        return f"终止{_programme(notice.programme)}通知书"
    if isinstance(notice, EdgeRecognitionNotice):
        return f"{_programme(notice.offered_programme)}认定告知书"
    return f"{_programme(notice.programme)}公示"


def _programme_of(notice: Notice) -> Programme:
    if isinstance(notice, EdgeRecognitionNotice):
        return notice.offered_programme
    return notice.programme


def notice_basis(notice: Notice) -> str:
    """The legal basis line: the table's citations for the notice's kind and programme
    (``rules.legal_basis``), each document once."""
    withdrawal = isinstance(notice, TerminationNotice) and notice.withdrawal_until is not None
    return citation_lines(legal_basis(notice.kind, _programme_of(notice), withdrawal=withdrawal))


def notice_matter(notice: Notice) -> str:
    """案由 on the delivery receipt: what the decision is about, in words (no ids)."""
    programme = _programme(_programme_of(notice))
    if isinstance(notice, (ApprovalNotice, RefusalNotice)):
        return f"{notice.applicant_name}申请{programme}"
    if isinstance(notice, (ReductionNotice, SuspensionNotice, TerminationNotice)):
        return f"{notice.applicant_name}家庭{programme}待遇变更"
    return programme


def _context(notice: Notice) -> dict[str, object]:
    context: dict[str, object] = {
        "n": notice,
        "title": notice_title(notice),
        "basis": notice_basis(notice),
        "decision": notice.kind in DECISION_KINDS,
        "matter": notice_matter(notice),
        "recipient": getattr(notice, "applicant_name", ""),
    }
    if isinstance(notice, ApprovalNotice):
        context["local_basis"] = "、".join(local_documents([notice.policy_basis]))
    return context


# Templates ---------------------------------------------------------------------------------

_LAYOUT = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: "Noto Serif SC", "Source Han Serif SC", "SimSun", serif; max-width: 46em;
       margin: 2em auto; line-height: 1.8; }
h1 { text-align: center; font-size: 1.6em; }
.ref { text-align: right; }
.sign { text-align: right; margin-top: 3em; }
.seal { float: right; width: 42mm; height: 42mm; margin: -30mm 8mm 0 0; border: 1px dashed #c00;
        border-radius: 50%; color: #c00; text-align: center; line-height: 42mm; opacity: 0.6; }
.receipt { page-break-before: always; break-before: page; clear: both; }
.receipt th { width: 28%; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #333; padding: 0.3em 0.6em; text-align: center; }
</style>
</head>
<body>
{{ body }}
</body>
</html>
"""

_HEADER = """<h1 align="center">{{ title }}</h1>
{% if n.document_number %}<p class="ref" align="right">{{ n.document_number }}</p>
{% endif %}"""

# The basis line, the signature with its seal area (盖章) and, for decisions, the delivery
# receipt (送达回证) on a page of its own.
_SIGNATURE = """<p class="basis">法律依据：{{ basis }}。</p>
<p class="sign" align="right">{{ n.authority }}（盖章）<br>{{ n.issued_on | date_zh }}</p>
<div class="seal" title="{{ n.authority }}">印章</div>
{% if decision %}{% include "receipt" %}{% endif %}"""

_RECEIPT = """<div class="receipt">
<h2 align="center">送达回证</h2>
<table class="receipt" width="100%">
<tr><th width="28%">送达文书</th><td width="72%">{{ title }}\
{% if n.document_number %}（{{ n.document_number }}）{% endif %}</td></tr>
<tr><th>案由</th><td>{{ matter }}</td></tr>
<tr><th>受送达人</th><td>{{ recipient }}</td></tr>
<tr><th>送达机关</th><td>{{ n.authority }}</td></tr>
<tr><th>送达地点</th><td>　</td></tr>
<tr><th>送达方式</th><td>□直接送达　□留置送达　□邮寄送达　□委托送达　□电子送达</td></tr>
<tr><th>送达日期</th><td>　　　　年　　月　　日</td></tr>
<tr><th>受送达人签名</th><td>　　　　年　　月　　日</td></tr>
<tr><th>送达人签名</th><td>　　　　年　　月　　日</td></tr>
<tr><th>见证人签名</th><td>　　　　年　　月　　日</td></tr>
<tr><th>备注</th><td>受送达人拒绝签收的，送达人应当在本回证上注明拒收事由和日期，\
由送达人、见证人签名，把文书留在受送达人的住所，即视为送达。</td></tr>
</table>
</div>
"""

_APPEAL = """<p>如对本决定不服，可以自知道或者应当知道该行政行为之日起\
{{ n.review_period | period }}内向{{ n.review_authority }}申请行政复议，\
或者自知道或者应当知道该行政行为之日起{{ n.lawsuit_period | period }}内\
向{{ n.court }}提起行政诉讼。</p>
"""

_REASONS = """<ol>
{% for r in n.reasons %}<li>{{ r.text_zh }}{% if r.basis %}（依据：{{ r.basis }}）{% endif %}</li>
{% endfor %}</ol>
"""

_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "layout": _LAYOUT,
        "header": _HEADER,
        "signature": _SIGNATURE,
        "appeal": _APPEAL,
        "reasons": _REASONS,
        "receipt": _RECEIPT,
        "missing_documents": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>你于{{ n.received_on | date_zh }}向{{ n.township }}提出的{{ n.programme | programme }}申请，\
经审查，申请材料不齐全。现一次性告知你需要补齐的全部材料如下：</p>
<ol>
{% for doc in n.missing_documents %}<li>{{ doc }}</li>
{% endfor %}</ol>
{% if n.submit_by %}<p>请于{{ n.submit_by | date_zh }}前补齐上述材料。</p>{% endif %}
<p>材料补齐后予以受理，办理时限自受理之日起计算。可以通过政府部门共享获取的材料，无需重复提供。\
除上述材料外，不再要求提供其他材料。</p>
{% if n.contact %}<p>联系方式：{{ n.contact }}</p>{% endif %}
{% include "signature" %}""",
        "approval": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>经审核，你家符合{{ n.programme | programme(n.single_person) }}条件，\
于{{ n.decided_on | date_zh }}决定自{{ n.start_month | month_zh }}起给予\
{{ n.programme | programme(n.single_person) }}，保障人数{{ n.members_covered }}人，\
每月{{ n.monthly_amount | yuan }}{% if n.care_tier %}（生活自理能力评估：\
{{ n.care_tier | care_tier }}）{% endif %}。</p>
<p>救助金每月{{ n.payment_day }}日前发放至{{ n.payment_channel }}，逢法定节假日提前发放。</p>
{% if local_basis %}<p>保障标准依据：{{ local_basis }}。</p>{% endif %}
<p>家庭人口、收入、财产状况发生变化的，请及时告知{{ n.township or n.authority }}。\
{% if n.review_period %}民政部门将每{{ n.review_period | period }}对你家情况进行核查。{% endif %}\
以虚报、隐瞒、伪造等手段骗取救助资金的，将依法追回并追究责任。</p>
{% include "signature" %}""",
        "refusal": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>你于{{ n.applied_on | date_zh }}提出的{{ n.programme | programme(n.single_person) }}申请，\
经调查核实，于{{ n.decided_on | date_zh }}决定不予确认。理由如下：</p>
{% include "reasons" %}
{% include "appeal" %}
{% include "signature" %}""",
        "reduction": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>经核查，自{{ n.effective_month | month_zh }}起，你家{{ n.programme | programme }}金由每月\
{{ n.previous_amount | yuan }}调整为每月{{ n.new_amount | yuan }}。理由如下：</p>
{% include "reasons" %}
{% include "appeal" %}
{% include "signature" %}""",
        "suspension": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>经核查，自{{ n.effective_month | month_zh }}起停发你家{{ n.programme | programme }}金。\
理由如下：</p>
{% include "reasons" %}
{% include "appeal" %}
{% include "signature" %}""",
        "termination": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>经核查，决定自{{ n.effective_month | month_zh }}起终止对你（家）的\
{{ n.programme | programme }}。理由如下：</p>
{% include "reasons" %}
{% if n.withdrawal_until %}<p>根据渐退期规定，救助金继续发放至\
{{ n.withdrawal_until | month_zh }}。</p>\
{% endif %}
{% if n.referral %}<p>{{ n.referral }}</p>{% endif %}
{% include "appeal" %}
{% include "signature" %}""",
        "edge_recognition": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>你提出的{{ n.refused_programme | programme }}申请经审核不符合条件，但你家符合\
{{ n.offered_programme | programme }}认定条件。经你同意后，我们将在\
{{ n.recognition_period | period }}内予以认定。</p>
<p>认定后，可按规定享受以下救助帮扶：{{ n.benefits | join("、") }}。</p>
{% if n.reply_by %}<p>如同意认定，请于{{ n.reply_by | date_zh }}前\
告知{{ n.township or n.authority }}。</p>\
{% endif %}
{% include "signature" %}""",
        "publicity": """{% include "header" %}
<p>现将{{ n.village }}{{ n.programme | programme }}对象审核意见予以公示。</p>
<p>公示期：{{ n.period_start | date_zh }}至{{ n.period_end | date_zh }}。</p>
<table width="100%">
<thead><tr><th width="8%">序号</th><th width="17%">姓名</th>\
<th width="35%">身份证号码</th><th width="15%">家庭人数</th><th width="25%">月救助金额</th></tr>\
</thead>
<tbody>
{% for row in n.rows %}<tr><td align="center">{{ loop.index }}</td>\
<td align="center">{{ row.name | mask_name }}</td>\
<td align="center">{{ row.id_number | mask_id }}</td>\
<td align="center">{{ row.household_size }}</td>\
<td align="center">{{ row.monthly_amount | yuan }}</td></tr>
{% endfor %}</tbody>
</table>
<p>公示期间如有异议，请向{{ n.objection_channel }}反映，\
也可拨打监督电话{{ n.complaints_hotline }}。\
有异议的，将重新组织调查核实或者民主评议。</p>
{% include "signature" %}""",
    }
)

_FILTERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        "date_zh": date_zh,
        "month_zh": month_zh,
        "yuan": _yuan,
        "programme": _programme,
        "care_tier": _care_tier,
        "period": _period,
        "mask_name": mask_name,
        "mask_id": mask_id_number,
    }
)


def _environment() -> Environment:
    # A fresh environment per call: no module-level state that changes (template caches).
    environment = Environment(
        loader=DictLoader(dict(_TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters.update(_FILTERS)
    return environment


TEMPLATE_PARTIALS: Mapping[str, str] = MappingProxyType(
    {key: _TEMPLATES[key] for key in ("layout", "header", "signature", "appeal", "receipt")}
)
"""The shared parts (layout, header, signature with seal area and basis, appeal, receipt) for
notices rendered elsewhere with the same look (``activities.applications.notices``)."""


def render_notice_body_html(notice: Notice) -> str:
    """The notice's HTML body (title, text, basis, signature, receipt) without the surrounding
    document."""
    return _environment().get_template(notice.kind).render(**_context(notice))


def render_notice_html(notice: Notice) -> str:
    """A complete UTF-8 HTML document for ``notice`` (values escaped)."""
    environment = _environment()
    body = environment.get_template(notice.kind).render(**_context(notice))
    return environment.get_template("layout").render(title=notice_title(notice), body=Markup(body))
