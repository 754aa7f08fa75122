"""Policy per jurisdiction, effective-dated and merged national → province → city → county
(DOMAIN §9).

A ``PolicyLayer`` holds only what one jurisdiction sets from one date on (``None`` = not set
here). ``resolve_policy`` picks, for the area and each of its ancestors, the latest layer in
force on a date, and ``merge_layers`` folds them in order (national ``"CN"`` first, the most
local last) into a complete, validated ``Policy``. The merged ``version_id`` names every layer
used, e.g. ``"CN@2021-07-01+41@2025-01-01+419901@2026-01-01"``, so a case can say which rules
it ran under (DOMAIN §9: "a case runs under the policy version in force when it was accepted").

National defaults are the 2021 measures: 低保办法 = 《最低生活保障审核确认办法》(民发〔2021〕57号),
特困办法 = 《特困人员认定办法》(民发〔2021〕43号). Money standards are set locally and have no
national value: a province, city or county layer must set them.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rules.areas import NATIONAL, ancestors, is_valid_area_code
from rules.disability import DisabilityCategory, DisabilityCriterion
from rules.household import CareTier, Hukou, RigidExpenditureKind
from rules.money import ZERO, Money, Rate, RoundingMode
from rules.periods import Period, PeriodUnit, calendar_days, months, working_days
from rules.programmes import Programme
from rules.statutory_bounds import STATUTORY_BOUNDS, StatutoryBound, bound_problems

__all__ = [
    "STATUTORY_BOUNDS",
    "NoPolicyInForce",
    "PaymentFrequency",
    "Period",
    "PeriodUnit",
    "Policy",
    "PolicyConflict",
    "PolicyInvalid",
    "PolicyLayer",
    "PolicyProblem",
    "StatutoryBound",
    "check_layers",
    "layer_version_id",
    "layers_for",
    "merge_layers",
    "resolve_policy",
]


class PaymentFrequency(StrEnum):
    """How often an allowance is paid: 低保 monthly; dispersed 特困 monthly or quarterly
    (晋民发〔2022〕38号 一.4: quarterly, by the 10th of the quarter's first month)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class NoPolicyInForce(Exception):
    """No national policy layer is in force for ``area_code`` on ``on``."""

    def __init__(self, area_code: str, on: date) -> None:
        super().__init__(
            f"{on.isoformat()}在{area_code}没有生效的政策 / no policy in force for area "
            f"{area_code} on {on.isoformat()}"
        )
        self.area_code = area_code
        self.on = on


class PolicyProblem(BaseModel):
    """One problem with a merged policy: the field (dotted path) and why."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str


class PolicyInvalid(ValueError):
    """The merged layers do not form a valid policy (e.g. a money standard never set)."""

    def __init__(self, version_id: str, problems: Sequence[PolicyProblem]) -> None:
        details = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"政策{version_id}无效 / policy {version_id} is invalid: {details}")
        self.version_id = version_id
        self.problems = list(problems)


class PolicyConflict(ValueError):
    """Two layers claim the same area and effective date."""


def layer_version_id(area_code: str, effective_from: date) -> str:
    """Canonical id of a layer: ``"<area_code>@<YYYY-MM-DD>"``."""
    return f"{area_code}@{effective_from.isoformat()}"


_FROZEN = ConfigDict(frozen=True, extra="forbid")

# National statutory lists -------------------------------------------------------------------

# 特困办法 Art. 6(三): intellectual/mental grades 1–3, physical 1–2, visual 1.
NATIONAL_TEKUN_DISABILITIES: tuple[DisabilityCriterion, ...] = (
    DisabilityCriterion(category=DisabilityCategory.INTELLECTUAL, grades=[1, 2, 3]),
    DisabilityCriterion(category=DisabilityCategory.MENTAL, grades=[1, 2, 3]),
    DisabilityCriterion(category=DisabilityCategory.PHYSICAL, grades=[1, 2]),
    DisabilityCriterion(category=DisabilityCategory.VISUAL, grades=[1]),
)

# 低保办法 Art. 8(一): grade 1–2 of any category, and intellectual/mental grade 3.
NATIONAL_SINGLE_PERSON_DISABILITIES: tuple[DisabilityCriterion, ...] = tuple(
    DisabilityCriterion(
        category=category,
        grades=[1, 2, 3]
        if category in (DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL)
        else [1, 2],
    )
    for category in DisabilityCategory
)


class Policy(BaseModel):
    """A complete, validated policy for one area on one date: every parameter of DOMAIN §9.

    Money is yuan per person per month unless named otherwise. Periods are ``Period`` values.
    Built by ``merge_layers``/``resolve_policy``; fields with a national default carry it here
    too, money standards have none and must be set by some layer.
    """

    model_config = _FROZEN

    # Identity ----------------------------------------------------------------------------
    version_id: str = Field(description="Every layer used, '+'-joined: 'CN@2021-07-01+41@…'")
    area_code: str = Field(description="Area the policy applies to (the most local layer's)")
    effective_from: date = Field(description="Latest effective_from among the layers used")
    name: str = Field(min_length=1, description="Name of the most local layer that names itself")
    sources: list[str] = Field(default_factory=list, description="Each layer's source")
    legal_basis: list[str] = Field(default_factory=list, description="Documents the layers cite")

    # Standards (set locally) -------------------------------------------------------------
    dibao_standard_urban: Money = Field(description="城市低保标准, yuan/person/month")
    dibao_standard_rural: Money = Field(description="农村低保标准, yuan/person/month")
    tekun_standard_urban: Money = Field(description="城市特困人员基本生活标准, yuan/person/month")
    tekun_standard_rural: Money = Field(description="农村特困人员基本生活标准, yuan/person/month")
    tekun_care_full_loss: Money = Field(description="照料护理标准: 完全丧失生活自理能力")
    tekun_care_partial_loss: Money = Field(description="照料护理标准: 部分丧失生活自理能力")
    tekun_care_self_care: Money = Field(description="照料护理标准: 具备生活自理能力")
    per_capita_disposable_income_last_year: Money = Field(
        description="上年度当地居民人均可支配收入, yuan/person/YEAR (刚性支出困难 test)"
    )
    prepayment_cap: Money = Field(description="小金额先行救助 cap per case (临时救助), yuan")
    temporary_township_approval_limit: Money = Field(
        description="临时救助 up to this amount approved by the township with a county record"
    )

    # Means test ------------------------------------------------------------------------
    edge_multiplier: Decimal = Field(
        default=Decimal("1.5"), ge=1, description="低保边缘: income below this × 低保标准"
    )
    financial_assets_limit_months: Decimal = Field(
        default=Decimal(24),
        ge=0,
        description="Per-capita deposits+securities+other financial assets ≤ this many months "
        "of the applicable monthly 低保标准",
    )
    vehicle_value_exempt: Money = Field(
        default=ZERO, description="Total vehicle value up to this is disregarded; above → fail"
    )
    second_home_allowed: bool = Field(default=False, description="A second home keeps eligibility")
    business_equity_allowed: bool = Field(
        default=False, description="Owning or investing in a business keeps eligibility"
    )
    employment_cost_max_share: Rate = Field(
        default=Decimal(1),
        description="就业成本 deduction ≤ this share of the member's wage+business income",
    )
    count_supporter_support: bool = Field(
        default=True, description="Support paid by legal supporters counts as household income"
    )
    dibao_rigid_deduction_kinds: list[RigidExpenditureKind] = Field(
        default_factory=lambda: [
            RigidExpenditureKind.MEDICAL,
            RigidExpenditureKind.DISABILITY_REHABILITATION,
        ],
        description="Rigid spending deducted from 低保 income where a member is disabled or "
        "seriously ill (低保办法 Art. 13)",
    )
    rigid_expense_threshold_share: Rate = Field(
        default=Decimal("0.5"),
        description="刚性支出困难: 12-month rigid spending above this share of annual income",
    )
    single_person_dibao_disabilities: list[DisabilityCriterion] = Field(
        default_factory=lambda: list(NATIONAL_SINGLE_PERSON_DISABILITIES),
        description="单人保 disabilities (低保办法 Art. 8; seeds 003, 004)",
    )
    single_person_dibao_serious_illness: bool = Field(
        default=True, description="单人保 also for seriously ill members of edge households"
    )
    tekun_disabilities: list[DisabilityCriterion] = Field(
        default_factory=lambda: list(NATIONAL_TEKUN_DISABILITIES),
        description="Disabilities meaning no work capacity (特困办法 Art. 6)",
    )
    tekun_elderly_age: int = Field(default=60, ge=0, description="特困: aged this or over")
    tekun_minor_age: int = Field(default=16, ge=0, description="特困: under this age")
    tekun_minor_coverage_age: int = Field(
        default=18, ge=0, description="Minors stay covered to this age (longer in school)"
    )

    # Amounts ---------------------------------------------------------------------------
    amount_rounding: RoundingMode = Field(default="ROUND_HALF_UP")
    amount_quantum: Decimal = Field(default=Decimal("0.01"), gt=0)
    minimum_monthly_amount: Money = Field(
        default=ZERO, description="Floor for a positive 低保 amount (0 = none)"
    )

    # Procedure -------------------------------------------------------------------------
    decision_delegated_to_township: bool = Field(
        default=False, description="审核确认权限下放至乡镇（街道） (焦民〔2022〕154号 第五条)"
    )
    investigation_start: Period = Field(default_factory=lambda: working_days(3))
    verification_start: Period = Field(default_factory=lambda: working_days(3))
    publicity: Period = Field(default_factory=lambda: calendar_days(7))
    dibao_decision: Period = Field(default_factory=lambda: working_days(10))
    tekun_initial_opinion: Period = Field(default_factory=lambda: working_days(15))
    tekun_objection_opinion: Period = Field(default_factory=lambda: working_days(15))
    tekun_decision: Period = Field(default_factory=lambda: working_days(15))
    overall: Period = Field(default_factory=lambda: working_days(30))
    overall_special: Period = Field(default_factory=lambda: working_days(45))
    overall_delegated: Period = Field(default_factory=lambda: working_days(20))
    refusal_notice: Period = Field(default_factory=lambda: working_days(3))
    edge_recognition: Period = Field(default_factory=lambda: working_days(3))
    temporary_decision: Period = Field(default_factory=lambda: working_days(15))
    special_decision: Period = Field(
        default_factory=lambda: working_days(10),
        description="一事一议: the county coordination mechanism decides a referred case within "
        "(local policy; 晋民发〔2022〕38号 二.7 names the mechanism, not the period)",
    )
    overpayment_recovery: Period = Field(
        default_factory=lambda: calendar_days(90),
        description="Overpaid assistance (e.g. paid after a death) is recovered, or a write-off "
        "decided by the county, within this period from the receivable's opening (local policy)",
    )
    prepayment_justification: Period = Field(default_factory=lambda: working_days(10))
    self_care_reassessment: Period = Field(default_factory=lambda: working_days(10))
    reminder_lead: Period = Field(default_factory=lambda: working_days(1))
    review_stable: Period = Field(default_factory=lambda: months(12))
    review_can_work: Period = Field(default_factory=lambda: months(6))
    edge_review: Period = Field(default_factory=lambda: months(12))
    rigid_expense_validity: Period = Field(default_factory=lambda: months(12))
    withdrawal_period: Period = Field(default_factory=lambda: months(6))
    withdrawal_period_max: Period = Field(default_factory=lambda: months(6))
    death_review: Period = Field(default_factory=lambda: months(3))
    monitoring_after_exit: Period = Field(default_factory=lambda: months(24))
    warning_home_visit: Period = Field(
        default_factory=lambda: working_days(10),
        description="动态监测预警: the township visits the household of a warning and records "
        "the outcome within this period (豫政办〔2022〕103号 三(三) names the visit, not the "
        "period: local policy)",
    )
    warning_income_ratio: Decimal = Field(
        default=Decimal("1.0"),
        gt=0,
        description="动态监测预警: a recorded monthly income of a 低保/特困 household member at or "
        "above this × the rural 低保标准 raises a warning (local indicator; 豫政办〔2022〕103号 "
        "三(三): 合理设置预警指标)",
    )
    warning_medical_expense: Money = Field(
        default=Decimal("10000.00"),
        description="动态监测预警: recorded out-of-pocket hospital costs at or above this (yuan) "
        "raise a warning (支出型困难; local indicator, 豫政办〔2022〕103号 二(一)4, 三(三))",
    )
    administrative_review_period: Period = Field(default_factory=lambda: calendar_days(60))
    lawsuit_period: Period = Field(default_factory=lambda: months(6))
    referral_feedback: Period = Field(
        default_factory=lambda: working_days(15),
        description="A department to which a case was referred (医疗/教育/住房/就业救助, 残联, "
        "防返贫) feeds its answer back within this period (local policy; seed 001 二(二)1(3): "
        "各相关部门要及时将救助帮扶信息反馈…形成一户（人）一条救助链 — no period fixed)",
    )
    listing_update: Period = Field(
        default_factory=lambda: working_days(5),
        description="长期公示: when a household starts, changes or stops receiving 低保/特困, the "
        "village's notice board shows the updated listing within this period (local policy; "
        "低保办法 Art. 23–24 and 焦民〔2022〕154号 十一 ask for the long-term listing, "
        "not a period)",
    )
    work_refusal_limit: int = Field(default=3, ge=1)

    # Payment and supervision -----------------------------------------------------------
    payment_data_day: int = Field(default=5, ge=1, le=28)
    payment_funds_day: int = Field(default=8, ge=1, le=28)
    payment_credit_day: int = Field(default=10, ge=1, le=28)
    tekun_dispersed_payment_frequency: PaymentFrequency = PaymentFrequency.MONTHLY
    spot_check_rate: Rate = Field(default=Decimal("0.30"))
    spot_check_rate_relatives: Rate = Field(default=Decimal("0.60"))
    spot_check_completion: Period = Field(
        default_factory=lambda: working_days(20),
        description="A case sampled in the county's monthly spot check is checked (confirmed "
        "or reversed) within this period from the draw (local policy; 焦民〔2022〕154号 第五条 "
        "sets the duty and the rates, not the period)",
    )
    complaint_reply: Period = Field(
        default_factory=lambda: calendar_days(60),
        description="A complaint or report (投诉举报) is investigated and answered within this "
        "period from intake (《信访工作条例》(2022): settled within 60 days of acceptance; "
        "焦民〔2022〕154号 第十二条 requires the register and the handling; locally often shorter)",
    )
    complaint_follow_up: Period = Field(
        default_factory=lambda: calendar_days(30),
        description="After the reply is delivered the complainant may ask for a review within "
        "this period (《信访工作条例》(2022): within 30 days of the written reply); then the "
        "complaint closes",
    )
    temporary_one_off_floor_is_rural_standard: bool = Field(
        default=False, description="一次性临时救助金不低于当地农村低保月标准 (晋民发〔2022〕38号)"
    )
    complaints_hotline: str = Field(default="12345", min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Policy":
        problems: list[str] = []
        if self.withdrawal_period.unit is not self.withdrawal_period_max.unit:
            problems.append("withdrawal_period and withdrawal_period_max must share a unit")
        elif self.withdrawal_period.value > self.withdrawal_period_max.value:
            problems.append(
                f"withdrawal_period ({self.withdrawal_period.describe_zh()}) exceeds "
                f"withdrawal_period_max ({self.withdrawal_period_max.describe_zh()})"
            )
        if not self.payment_data_day <= self.payment_funds_day <= self.payment_credit_day:
            problems.append("payment days must satisfy data <= funds <= credit")
        if self.minimum_monthly_amount > min(self.dibao_standard_urban, self.dibao_standard_rural):
            problems.append("minimum_monthly_amount exceeds a 低保 standard")
        if self.spot_check_rate_relatives < self.spot_check_rate:
            problems.append("spot_check_rate_relatives is below spot_check_rate")
        if self.tekun_minor_coverage_age < self.tekun_minor_age:
            problems.append("tekun_minor_coverage_age is below tekun_minor_age")
        if (
            self.overall_special.unit is self.overall.unit
            and self.overall_special.value < self.overall.value
        ):
            problems.append("overall_special is shorter than overall")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # Lookups ---------------------------------------------------------------------------
    def dibao_standard(self, hukou: Hukou) -> Decimal:
        """低保标准 for urban or rural registration."""
        return self.dibao_standard_urban if hukou is Hukou.URBAN else self.dibao_standard_rural

    def tekun_standard(self, hukou: Hukou) -> Decimal:
        """特困 basic living standard for urban or rural registration."""
        return self.tekun_standard_urban if hukou is Hukou.URBAN else self.tekun_standard_rural

    def tekun_care_supplement(self, tier: CareTier) -> Decimal:
        """特困 care standard (照料护理标准) by tier (特困办法 Art. 20–23)."""
        if tier is CareTier.FULL_LOSS:
            return self.tekun_care_full_loss
        if tier is CareTier.PARTIAL_LOSS:
            return self.tekun_care_partial_loss
        return self.tekun_care_self_care

    def decision_period(self, programme: Programme) -> Period:
        """County decision period: 低保 10 wd (低保办法 Art. 20), 特困 15 wd (特困办法 Art. 16),
        临时救助 locally set; edge and rigid-expense recognition follow 低保."""
        if programme is Programme.TEKUN:
            return self.tekun_decision
        if programme is Programme.TEMPORARY:
            return self.temporary_decision
        return self.dibao_decision

    def overall_deadline(self, *, special: bool = False) -> Period:
        """低保办法 Art. 22: 30 working days from acceptance, 45 in special cases, 20 where the
        decision is delegated to the township (2022 notice)."""
        if special:
            return self.overall_special
        return self.overall_delegated if self.decision_delegated_to_township else self.overall

    def review_period(self, *, can_work: bool) -> Period:
        """低保办法 Art. 31: yearly review for stable households, 6 months where members can
        work or income is irregular."""
        return self.review_can_work if can_work else self.review_stable

    def temporary_one_off_floor(self) -> Decimal:
        """Minimum one-off temporary assistance: the rural monthly 低保 standard where the policy
        says so (晋民发〔2022〕38号 二.8), else 0."""
        return self.dibao_standard_rural if self.temporary_one_off_floor_is_rural_standard else ZERO

    def spot_check_share(self, *, relative_of_staff: bool) -> Decimal:
        """County spot-check rate: ≥30%, ≥60% for relatives of staff and village cadres
        (焦民〔2022〕154号 第五条)."""
        return self.spot_check_rate_relatives if relative_of_staff else self.spot_check_rate


# Names of the policy parameters a layer may set (everything but the merged identity fields).
_IDENTITY_FIELDS = frozenset(
    {"version_id", "area_code", "effective_from", "name", "sources", "legal_basis"}
)


class PolicyLayer(BaseModel):
    """What one jurisdiction sets from ``effective_from`` on; ``None`` = inherited.

    ``area_code`` is ``"CN"`` for the national layer or an area code; ``source`` is the file
    path or ``"api"``. Unknown fields are rejected. Money must be ≥ 0 with ≤ 2 decimals.
    """

    model_config = _FROZEN

    area_code: str
    effective_from: date
    version_id: str
    source: str
    name: str | None = None
    legal_basis: list[str] | None = None

    dibao_standard_urban: Money | None = None
    dibao_standard_rural: Money | None = None
    tekun_standard_urban: Money | None = None
    tekun_standard_rural: Money | None = None
    tekun_care_full_loss: Money | None = None
    tekun_care_partial_loss: Money | None = None
    tekun_care_self_care: Money | None = None
    per_capita_disposable_income_last_year: Money | None = None
    prepayment_cap: Money | None = None
    temporary_township_approval_limit: Money | None = None

    edge_multiplier: Decimal | None = Field(default=None, ge=1)
    financial_assets_limit_months: Decimal | None = Field(default=None, ge=0)
    vehicle_value_exempt: Money | None = None
    second_home_allowed: bool | None = None
    business_equity_allowed: bool | None = None
    employment_cost_max_share: Rate | None = None
    count_supporter_support: bool | None = None
    dibao_rigid_deduction_kinds: list[RigidExpenditureKind] | None = None
    rigid_expense_threshold_share: Rate | None = None
    single_person_dibao_disabilities: list[DisabilityCriterion] | None = None
    single_person_dibao_serious_illness: bool | None = None
    tekun_disabilities: list[DisabilityCriterion] | None = None
    tekun_elderly_age: int | None = Field(default=None, ge=0)
    tekun_minor_age: int | None = Field(default=None, ge=0)
    tekun_minor_coverage_age: int | None = Field(default=None, ge=0)

    amount_rounding: RoundingMode | None = None
    amount_quantum: Decimal | None = Field(default=None, gt=0)
    minimum_monthly_amount: Money | None = None

    decision_delegated_to_township: bool | None = None
    investigation_start: Period | None = None
    verification_start: Period | None = None
    publicity: Period | None = None
    dibao_decision: Period | None = None
    tekun_initial_opinion: Period | None = None
    tekun_objection_opinion: Period | None = None
    tekun_decision: Period | None = None
    overall: Period | None = None
    overall_special: Period | None = None
    overall_delegated: Period | None = None
    refusal_notice: Period | None = None
    edge_recognition: Period | None = None
    temporary_decision: Period | None = None
    special_decision: Period | None = None
    overpayment_recovery: Period | None = None
    prepayment_justification: Period | None = None
    self_care_reassessment: Period | None = None
    reminder_lead: Period | None = None
    review_stable: Period | None = None
    review_can_work: Period | None = None
    edge_review: Period | None = None
    rigid_expense_validity: Period | None = None
    withdrawal_period: Period | None = None
    withdrawal_period_max: Period | None = None
    death_review: Period | None = None
    monitoring_after_exit: Period | None = None
    warning_home_visit: Period | None = None
    warning_income_ratio: Decimal | None = Field(default=None, gt=0)
    warning_medical_expense: Money | None = None
    administrative_review_period: Period | None = None
    lawsuit_period: Period | None = None
    referral_feedback: Period | None = None
    listing_update: Period | None = None
    work_refusal_limit: int | None = Field(default=None, ge=1)

    payment_data_day: int | None = Field(default=None, ge=1, le=28)
    payment_funds_day: int | None = Field(default=None, ge=1, le=28)
    payment_credit_day: int | None = Field(default=None, ge=1, le=28)
    tekun_dispersed_payment_frequency: PaymentFrequency | None = None
    spot_check_rate: Rate | None = None
    spot_check_rate_relatives: Rate | None = None
    spot_check_completion: Period | None = None
    complaint_reply: Period | None = None
    complaint_follow_up: Period | None = None
    temporary_one_off_floor_is_rural_standard: bool | None = None
    complaints_hotline: str | None = Field(default=None, min_length=1)

    @field_validator("area_code")
    @classmethod
    def _valid_area(cls, value: str) -> str:
        if value != NATIONAL and not is_valid_area_code(value):
            raise ValueError(
                f"area_code须为CN或2/4/6/9/12位行政区划代码 / area_code must be 'CN' or an area "
                f"code of 2, 4, 6, 9 or 12 digits, got {value!r}"
            )
        return value

    @field_validator("version_id")
    @classmethod
    def _non_blank(cls, value: str) -> str:
        if not value.strip() or "+" in value:
            raise ValueError("version_id must be non-blank and must not contain '+'")
        return value

    def parameters(self) -> dict[str, Any]:
        """The policy parameters this layer sets (not ``None``), by field name."""
        return {
            name: getattr(self, name)
            for name in PARAMETER_FIELDS
            if getattr(self, name) is not None
        }

    def statutory_problems(self) -> list[PolicyProblem]:
        """Each parameter this layer sets outside its statutory bound (``STATUTORY_BOUNDS``,
        rules/statutory_bounds.py: publicity exactly 7 days, 低保办法 Art. 19; deadlines no
        longer than the national ones, 低保办法 Art. 15–22, 特困办法 Art. 13–18), the national
        layer included; empty if none. A local layer may only be stricter."""
        return [
            PolicyProblem(field=name, message=reason)
            for name, reason in bound_problems(self.parameters())
        ]


PARAMETER_FIELDS: tuple[str, ...] = tuple(
    name for name in Policy.model_fields if name not in _IDENTITY_FIELDS
)
"""Names of every policy parameter (all ``Policy`` fields except the identity fields)."""


def merge_layers(layers: Sequence[PolicyLayer]) -> Policy:
    """Fold layers in the given order (national first, most local last); each overrides only
    what it sets. Raises ``PolicyInvalid`` naming each missing or invalid field."""
    if not layers:
        raise PolicyInvalid("", [PolicyProblem(field="layers", message="no policy layers given")])
    version_id = "+".join(layer.version_id for layer in layers)
    merged: dict[str, Any] = {}
    legal_basis: list[str] = []
    name: str | None = None
    for layer in layers:
        merged.update(layer.parameters())
        if layer.name:
            name = layer.name
        for document in layer.legal_basis or []:
            if document not in legal_basis:
                legal_basis.append(document)
    data: dict[str, Any] = {
        **merged,
        "version_id": version_id,
        "area_code": layers[-1].area_code,
        "effective_from": max(layer.effective_from for layer in layers),
        "name": name or layers[-1].version_id,
        "sources": [layer.source for layer in layers],
        "legal_basis": legal_basis,
    }
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            field = ".".join(str(part) for part in item.get("loc", ())) or "policy"
            message = str(item.get("msg", ""))
            if item.get("type") == "missing":
                message = "未在任何层级设定 / not set by any layer"
            elif message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            problems.append(PolicyProblem(field=field, message=message))
        raise PolicyInvalid(version_id, problems) from None


def _check_conflicts(layers: Sequence[PolicyLayer]) -> None:
    seen: dict[tuple[str, date], PolicyLayer] = {}
    for layer in layers:
        key = (layer.area_code, layer.effective_from)
        if key in seen:
            raise PolicyConflict(
                f"两个政策层级的地区和生效日期相同 / two layers for {layer.area_code} effective "
                f"{layer.effective_from.isoformat()}: {seen[key].source} and {layer.source}"
            )
        seen[key] = layer


def layers_for(layers: Sequence[PolicyLayer], area_code: str, on: date) -> list[PolicyLayer]:
    """The layers in force for ``area_code`` on ``on``: for ``"CN"`` and each ancestor of the
    area (province, city, county, township…), the latest with ``effective_from <= on``, in that
    order. Raises ``NoPolicyInForce`` if no national layer is in force, ``PolicyConflict`` if
    two layers share an area and date."""
    _check_conflicts(layers)
    chain = [NATIONAL] if area_code == NATIONAL else [NATIONAL, *ancestors(area_code)]
    chosen: list[PolicyLayer] = []
    for code in chain:
        candidates = [x for x in layers if x.area_code == code and x.effective_from <= on]
        if not candidates:
            if code == NATIONAL:
                raise NoPolicyInForce(area_code, on)
            continue
        chosen.append(max(candidates, key=lambda x: x.effective_from))
    return chosen


def resolve_policy(layers: Sequence[PolicyLayer], area_code: str, on: date) -> Policy:
    """The policy in force for ``area_code`` on ``on`` (DOMAIN §9), merged from ``layers_for``.

    The result's ``area_code`` is the requested area; its ``version_id`` lists the layers used.
    """
    policy = merge_layers(layers_for(layers, area_code, on))
    return policy.model_copy(update={"area_code": area_code})


def check_layers(layers: Sequence[PolicyLayer]) -> list[PolicyInvalid]:
    """Check a set of layers as a whole: there is a national layer, and for every non-national
    layer the policy of its area merges validly on every effective date in the set from the
    layer's own date on (dates before any national layer is in force are skipped). Returns the
    problems found (empty = consistent). Every layer is also checked against its statutory
    bounds (``PolicyLayer.statutory_problems``), reported under its own version id. Raises
    ``PolicyConflict`` for duplicate (area, date)."""
    _check_conflicts(layers)
    found: dict[str, PolicyInvalid] = {}
    for layer in layers:
        if statutory := layer.statutory_problems():
            found[layer.version_id] = PolicyInvalid(layer.version_id, statutory)
    national = [layer.effective_from for layer in layers if layer.area_code == NATIONAL]
    if not national:
        problem = PolicyProblem(field="area_code", message="no national (CN) layer")
        return [*found.values(), PolicyInvalid(NATIONAL, [problem])]
    first_national = min(national)
    dates = sorted(
        {layer.effective_from for layer in layers if layer.effective_from >= first_national}
    )
    for layer in layers:
        if layer.area_code == NATIONAL:
            continue
        start = max(layer.effective_from, first_national)
        for on in [start, *(d for d in dates if d > start)]:
            try:
                merge_layers(layers_for(layers, layer.area_code, on))
            except PolicyInvalid as invalid:
                found.setdefault(invalid.version_id, invalid)
    return list(found.values())
