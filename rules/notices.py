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
from rules.money import Money, format_yuan
from rules.periods import Period, calendar_days, months, working_days
from rules.programmes import Programme, programme_name_zh
from rules.reasons import Reason

__all__ = [
    "NOTICE_ADAPTER",
    "ApprovalNotice",
    "EdgeRecognitionNotice",
    "MissingDocumentsNotice",
    "Notice",
    "PublicityList",
    "PublicityRow",
    "ReductionNotice",
    "RefusalNotice",
    "SuspensionNotice",
    "TerminationNotice",
    "notice_title",
    "render_notice_body_html",
    "render_notice_html",
]

REVIEW_LAW = "《中华人民共和国行政复议法》第二十条"
LAWSUIT_LAW = "《中华人民共和国行政诉讼法》第四十六条"


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1, description="Case, application or list reference")
    authority: str = Field(min_length=1, description="Issuing authority, e.g. 演示县民政局")
    issued_on: date


class _Letter(_Document):
    applicant_name: str = Field(min_length=1)


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
    policy_basis: str = Field(min_length=1)
    policy_version_id: str = Field(min_length=1)
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
    reasons: list[Reason] = Field(min_length=1)


class ReductionNotice(_Letter, _AppealRights):
    """减发: a lower amount from a month, with reasons (低保办法 Art. 32)."""

    kind: Literal["reduction"] = "reduction"
    programme: Programme
    previous_amount: Money
    new_amount: Money
    effective_month: date
    reasons: list[Reason] = Field(min_length=1)


class SuspensionNotice(_Letter, _AppealRights):
    """停发: payments stop from a month, with reasons (低保办法 Art. 32; seed 002)."""

    kind: Literal["suspension"] = "suspension"
    programme: Programme
    effective_month: date
    reasons: list[Reason] = Field(min_length=1)


class TerminationNotice(_Letter, _AppealRights):
    """终止: assistance ends, with reasons; optional gradual withdrawal (渐退期) and referral to
    other assistance (特困办法 Art. 24–27; 低保办法 Art. 32–33)."""

    kind: Literal["termination"] = "termination"
    programme: Programme
    effective_month: date
    reasons: list[Reason] = Field(min_length=1)
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
<p class="ref" align="right">编号：{{ n.case_id }}</p>
"""

_SIGNATURE = """<p class="sign" align="right">{{ n.authority }}<br>{{ n.issued_on | date_zh }}</p>
"""

_APPEAL = (
    """<p>如对本决定不服，可以自知道或者应当知道该行政行为之日起{{ n.review_period | period }}内向\
{{ n.review_authority }}申请行政复议，或者自知道或者应当知道该行政行为之日起\
{{ n.lawsuit_period | period }}内向{{ n.court }}提起行政诉讼（"""
    + REVIEW_LAW
    + "、"
    + LAWSUIT_LAW
    + """）。</p>
"""
)

_REASONS = """<ol>
{% for r in n.reasons %}<li>{{ r.text_zh }}（依据：{{ r.basis }}）</li>
{% endfor %}</ol>
"""

_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "layout": _LAYOUT,
        "header": _HEADER,
        "signature": _SIGNATURE,
        "appeal": _APPEAL,
        "reasons": _REASONS,
        "missing_documents": """{% include "header" %}
<p>{{ n.applicant_name }}：</p>
<p>你于{{ n.received_on | date_zh }}向{{ n.township }}提出的{{ n.programme | programme }}申请，\
经审查，申请材料不齐全。根据《最低生活保障审核确认办法》第十条，现一次性告知你需要补齐的\
全部材料如下：</p>
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
<p>依据：{{ n.policy_basis }}（政策版本：{{ n.policy_version_id }}）。</p>
<p>家庭人口、收入、财产状况发生变化的，请及时告知乡镇人民政府（街道办事处）。\
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
{{ n.recognition_period | period }}内予以认定（豫政办〔2022〕103号）。</p>
<p>认定后，可按规定享受以下救助帮扶：{{ n.benefits | join("、") }}。</p>
{% if n.reply_by %}<p>如同意认定，请于{{ n.reply_by | date_zh }}前\
告知乡镇人民政府（街道办事处）。</p>\
{% endif %}
{% include "signature" %}""",
        "publicity": """{% include "header" %}
<p>根据《最低生活保障审核确认办法》有关规定，现将{{ n.village }}\
{{ n.programme | programme }}对象予以公示。</p>
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


def render_notice_body_html(notice: Notice) -> str:
    """The notice's HTML body (title, text, signature) without the surrounding document."""
    template = _environment().get_template(notice.kind)
    return template.render(n=notice, title=notice_title(notice))


def render_notice_html(notice: Notice) -> str:
    """A complete UTF-8 HTML document for ``notice`` (values escaped)."""
    environment = _environment()
    body = environment.get_template(notice.kind).render(n=notice, title=notice_title(notice))
    return environment.get_template("layout").render(title=notice_title(notice), body=Markup(body))
