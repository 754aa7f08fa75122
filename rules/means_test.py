"""Means test: eligibility and monthly amounts for every programme (DOMAIN §1, §3 step 5, §4).

``assess(household, policy, on)`` returns an ``Assessment`` with one ``ProgrammeAssessment``
per outcome, in this order:

1. ``DIBAO`` for the household (``single_person=False``);
2. ``TEKUN`` for the applicant (``member_id_number`` = the applicant's; 特困 is a personal
   status, applied for by the person: 特困办法 Art. 10);
3. ``DIBAO_EDGE`` for the household;
4. ``DIBAO`` with ``single_person=True`` — 单人保 — one entry per member who has a qualifying
   severe disability or serious illness (``member_id_number`` set), eligible only when the
   household is a 低保边缘 household (低保办法 Art. 8; seeds 002, 003, 004);
5. ``RIGID_EXPENSE`` for the household.

``ProgrammeAssessment.standard`` is the threshold the per-capita income was compared with
(低保标准; 特困: the 特困 basic standard, income compared with 低保标准; 边缘: edge multiplier ×
低保标准; 刚性支出: last year's monthly per-capita disposable income).

Income (低保办法 Art. 13): every income but ``EXCLUDED``; necessary employment costs (就业成本)
deducted from wage and business income up to ``employment_cost_max_share`` of it; support paid by
legal supporters counted; then, where a member is disabled or seriously ill, rigid spending of
the kinds in ``dibao_rigid_deduction_kinds`` over the last 12 months ÷ 12 is deducted. Per-capita
income = that ÷ members. Amounts are computed exactly and rounded once, per policy.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from rules.disability import meets_criteria
from rules.household import (
    FINANCIAL_ASSET_KINDS,
    SUPPORT_DUTY_RELATIONS,
    AssetKind,
    CareTier,
    Household,
    Hukou,
    Member,
    WorkCapacity,
    age_on,
    household_hukou,
    self_care_tier,
)
from rules.money import ZERO, Money, format_yuan, round_amount, to_cents
from rules.policy import Policy
from rules.programmes import Programme
from rules.reasons import Reason, ReasonCode, reason

__all__ = [
    "Assessment",
    "IncomeBreakdown",
    "ProgrammeAssessment",
    "assess",
    "dibao_amount",
    "household_income",
    "member_net_income",
    "self_care_tier",
]

_MONTHS_PER_YEAR = Decimal(12)
_ADULT_AGE = 18
# 特困办法 Art. 8(三): a supporter aged 70+ with low income cannot support.
_ELDERLY_SUPPORTER_AGE = 70


class ProgrammeAssessment(BaseModel):
    """The outcome for one programme (and, for 单人保 and 特困, one person)."""

    model_config = ConfigDict(frozen=True)

    programme: Programme
    single_person: bool = False
    member_id_number: str | None = None
    eligible: bool
    monthly_amount: Money
    per_capita_income: Money
    standard: Money
    members_counted: int = Field(ge=0)
    reasons: list[Reason]
    care_tier: CareTier | None = None

    def reason_codes(self) -> list[ReasonCode]:
        """The codes of ``reasons``, in order."""
        return [r.code for r in self.reasons]


class Assessment(BaseModel):
    """The full means test of one household under one policy on one date."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    policy_version_id: str
    area_code: str
    hukou: Hukou
    household_size: int
    household_monthly_income: Money
    per_capita_income: Money
    programmes: list[ProgrammeAssessment]

    def get(self, programme: Programme, *, single_person: bool = False) -> ProgrammeAssessment:
        """The first outcome for ``programme`` (``KeyError`` if none, which can only happen for
        ``single_person=True`` when no member is a 单人保 candidate)."""
        for outcome in self.programmes:
            if outcome.programme is programme and outcome.single_person is single_person:
                return outcome
        raise KeyError(f"{programme} single_person={single_person}")

    def single_person_outcomes(self) -> list[ProgrammeAssessment]:
        """The 单人保 outcomes, one per candidate member."""
        return [o for o in self.programmes if o.single_person]

    def eligible_outcomes(self) -> list[ProgrammeAssessment]:
        """Every eligible outcome."""
        return [o for o in self.programmes if o.eligible]


class IncomeBreakdown(BaseModel):
    """Monthly household income and how it was counted (for the file and for notices)."""

    model_config = ConfigDict(frozen=True)

    members_income: Decimal
    supporters_support: Decimal
    rigid_deduction: Decimal

    @property
    def before_rigid(self) -> Decimal:
        """Counted income before the rigid-spending deduction."""
        return self.members_income + self.supporters_support

    @property
    def counted(self) -> Decimal:
        """Counted income after the deduction, never below 0."""
        return max(self.before_rigid - self.rigid_deduction, ZERO)


def member_net_income(member: Member, policy: Policy) -> Decimal:
    """A member's counted monthly income: non-excluded income minus employment costs, the
    deduction capped at ``employment_cost_max_share`` of wage+business income (低保办法 Art. 13;
    焦民〔2022〕154号 第二条 "就业成本扣减")."""
    deduction = min(
        member.employment_costs, member.earned_income() * policy.employment_cost_max_share
    )
    return max(member.monthly_income() - deduction, ZERO)


def household_income(household: Household, policy: Policy) -> IncomeBreakdown:
    """Monthly household income as counted for 低保 (see module docstring)."""
    members_income = sum((member_net_income(m, policy) for m in household.members), ZERO)
    support = ZERO
    if policy.count_supporter_support:
        support = sum((s.monthly_support for s in household.legal_supporters), ZERO)
    rigid = ZERO
    if any(m.disability_category is not None or m.serious_illness for m in household.members):
        kinds = set(policy.dibao_rigid_deduction_kinds)
        total = sum((e.amount for e in household.rigid_expenditures_12m if e.kind in kinds), ZERO)
        rigid = total / _MONTHS_PER_YEAR
    return IncomeBreakdown(
        members_income=members_income, supporters_support=support, rigid_deduction=rigid
    )


def dibao_amount(gap: Decimal, cap: Decimal, policy: Policy) -> tuple[Decimal, bool]:
    """A 低保 amount from the exact gap (standard × members − income): rounded per policy,
    never above ``cap`` (standard × members), raised to ``minimum_monthly_amount`` if positive
    but below it. Returns the amount and whether the minimum was applied."""
    if gap <= 0:
        return ZERO, False
    amount = min(round_amount(gap, policy.amount_rounding, policy.amount_quantum), to_cents(cap))
    if amount < policy.minimum_monthly_amount:
        return min(policy.minimum_monthly_amount, to_cents(cap)), True
    return amount, False


def _asset_reasons(household: Household, policy: Policy, standard: Decimal) -> list[Reason]:
    """Asset tests of 低保办法 Art. 14 with local limits; empty list = within limits."""
    problems: list[Reason] = []
    size = Decimal(household.size)
    financial = sum((a.value for a in household.assets if a.kind in FINANCIAL_ASSET_KINDS), ZERO)
    limit = policy.financial_assets_limit_months * standard
    if financial / size > limit:
        problems.append(
            reason(
                ReasonCode.ASSETS_OVER_LIMIT,
                f"家庭人均金融资产{format_yuan(financial / size)}超过当地规定的"
                f"{policy.financial_assets_limit_months.normalize():f}个月低保标准"
                f"（{format_yuan(limit)}）",
            )
        )
    vehicles = sum((a.value for a in household.assets if a.kind is AssetKind.VEHICLE), ZERO)
    if vehicles > policy.vehicle_value_exempt:
        problems.append(
            reason(
                ReasonCode.VEHICLE_OVER_LIMIT,
                f"家庭拥有机动车辆，价值{format_yuan(vehicles)}，超过当地规定的豁免额"
                f"{format_yuan(policy.vehicle_value_exempt)}",
            )
        )
    if not policy.second_home_allowed and any(
        a.kind is AssetKind.REAL_ESTATE_SECOND for a in household.assets
    ):
        problems.append(reason(ReasonCode.SECOND_HOME_OWNED, "家庭拥有两套及以上住房"))
    if not policy.business_equity_allowed and any(
        a.kind is AssetKind.BUSINESS_EQUITY for a in household.assets
    ):
        problems.append(reason(ReasonCode.BUSINESS_EQUITY_OWNED, "家庭成员开办或投资企业"))
    return problems


def _assets_ok_reason() -> Reason:
    return reason(ReasonCode.ASSETS_WITHIN_LIMITS, "家庭财产状况符合当地规定")


def _assess_dibao(
    household: Household, policy: Policy, income: IncomeBreakdown, hukou: Hukou
) -> ProgrammeAssessment:
    """低保: per-capita income below the standard and assets within limits (低保办法 Art. 3,
    13, 14); amount = (standard − per-capita income) × members (差额)."""
    size = household.size
    standard = policy.dibao_standard(hukou)
    per_capita = income.counted / size
    reasons: list[Reason] = []
    income_ok = per_capita < standard
    if income_ok:
        reasons.append(
            reason(
                ReasonCode.INCOME_BELOW_STANDARD,
                f"家庭月人均收入{format_yuan(per_capita)}低于当地低保标准{format_yuan(standard)}",
            )
        )
    else:
        reasons.append(
            reason(
                ReasonCode.INCOME_NOT_BELOW_STANDARD,
                f"家庭月人均收入{format_yuan(per_capita)}不低于当地低保标准{format_yuan(standard)}",
            )
        )
    asset_problems = _asset_reasons(household, policy, standard)
    reasons.extend(asset_problems or [_assets_ok_reason()])
    eligible = income_ok and not asset_problems
    amount = ZERO
    if eligible:
        cap = standard * size
        amount, minimum_applied = dibao_amount(cap - income.counted, cap, policy)
        if minimum_applied:
            reasons.append(
                reason(
                    ReasonCode.MINIMUM_AMOUNT_APPLIED,
                    f"按当地保底金额{format_yuan(policy.minimum_monthly_amount)}发放",
                )
            )
    return ProgrammeAssessment(
        programme=Programme.DIBAO,
        eligible=eligible,
        monthly_amount=amount,
        per_capita_income=to_cents(per_capita),
        standard=standard,
        members_counted=size,
        reasons=reasons,
    )


def _member_can_support(member: Member, policy: Policy, on: date) -> bool:
    """Whether a household member with a duty of support is able to support (特困办法 Art. 8):
    not a minor; not without work capacity; not aged 70+ or severely disabled with income below
    last year's per-capita disposable income."""
    age = age_on(member.birth_date, on)
    if age < _ADULT_AGE or member.work_capacity is WorkCapacity.NONE:
        return False
    monthly_disposable = policy.per_capita_disposable_income_last_year / _MONTHS_PER_YEAR
    low_income = member_net_income(member, policy) < monthly_disposable
    severe = meets_criteria(
        member.disability_category, member.disability_grade, policy.single_person_dibao_disabilities
    )
    return not (low_income and (age >= _ELDERLY_SUPPORTER_AGE or severe))


def _assess_tekun(household: Household, policy: Policy, on: date) -> ProgrammeAssessment:
    """特困 for the applicant (特困办法 Art. 5–8): no work capacity (age ≥ 60, under 16, or a
    listed disability), no income source (own income below 低保标准, assets within limits), and
    no legal supporter able to support. Amount = basic standard + care standard by tier."""
    applicant = household.applicant
    age = age_on(applicant.birth_date, on)
    reasons: list[Reason] = []

    disabled = meets_criteria(
        applicant.disability_category, applicant.disability_grade, policy.tekun_disabilities
    )
    no_work = age >= policy.tekun_elderly_age or age < policy.tekun_minor_age or disabled
    if no_work:
        if age >= policy.tekun_elderly_age:
            why = f"申请人年满{policy.tekun_elderly_age}周岁"
        elif age < policy.tekun_minor_age:
            why = f"申请人未满{policy.tekun_minor_age}周岁"
        else:
            why = "申请人残疾等级属于无劳动能力情形"
        reasons.append(reason(ReasonCode.NO_WORK_CAPACITY, f"{why}，认定为无劳动能力"))
    else:
        reasons.append(
            reason(ReasonCode.HAS_WORK_CAPACITY, "申请人不属于无劳动能力情形（年龄、残疾等级）")
        )

    own_income = member_net_income(applicant, policy)
    dibao_standard = policy.dibao_standard(applicant.hukou)
    asset_problems = _asset_reasons(household, policy, dibao_standard)
    no_income_source = own_income < dibao_standard and not asset_problems
    if own_income < dibao_standard:
        reasons.append(
            reason(
                ReasonCode.NO_INCOME_SOURCE,
                f"申请人月收入{format_yuan(own_income)}低于当地低保标准{format_yuan(dibao_standard)}",
            )
        )
    else:
        reasons.append(
            reason(
                ReasonCode.HAS_INCOME_SOURCE,
                f"申请人月收入{format_yuan(own_income)}不低于当地低保标准{format_yuan(dibao_standard)}",
            )
        )
    reasons.extend(asset_problems or [_assets_ok_reason()])

    able_outside = [s.name for s in household.legal_supporters if s.able_to_support]
    able_inside = [
        m.name
        for m in household.members
        if m.relation in SUPPORT_DUTY_RELATIONS and _member_can_support(m, policy, on)
    ]
    if able_outside or able_inside:
        count = len(able_outside) + len(able_inside)
        reasons.append(
            reason(
                ReasonCode.HAS_ABLE_SUPPORTER,
                f"有具备履行能力的法定赡养、抚养、扶养义务人（{count}人）",
            )
        )
    else:
        reasons.append(
            reason(ReasonCode.NO_ABLE_SUPPORTER, "无法定义务人，或法定义务人无履行义务能力")
        )

    eligible = no_work and no_income_source and not (able_outside or able_inside)
    tier: CareTier | None = None
    if applicant.self_care is not None:
        tier = self_care_tier(applicant.self_care)
    elif eligible:
        tier = CareTier.SELF_CARE
        reasons.append(
            reason(
                ReasonCode.SELF_CARE_ASSESSMENT_MISSING,
                "尚未进行生活自理能力评估，暂按具备生活自理能力计算照料护理标准",
            )
        )
    basic = policy.tekun_standard(applicant.hukou)
    amount = basic + policy.tekun_care_supplement(tier) if eligible and tier else ZERO
    return ProgrammeAssessment(
        programme=Programme.TEKUN,
        member_id_number=applicant.id_number,
        eligible=eligible,
        monthly_amount=amount,
        per_capita_income=to_cents(own_income),
        standard=basic,
        members_counted=1,
        reasons=reasons,
        care_tier=tier,
    )


def _assess_edge(
    household: Household,
    policy: Policy,
    income: IncomeBreakdown,
    hukou: Hukou,
    dibao_or_tekun: bool,
) -> ProgrammeAssessment:
    """低保边缘: not 低保/特困, per-capita income below ``edge_multiplier`` × 低保标准, assets
    within limits (豫政办〔2022〕103号 二(一)3). No cash amount by itself."""
    size = household.size
    standard = policy.dibao_standard(hukou)
    line = standard * policy.edge_multiplier
    per_capita = income.counted / size
    reasons: list[Reason] = []
    if dibao_or_tekun:
        reasons.append(
            reason(
                ReasonCode.QUALIFIES_FOR_DIBAO_OR_TEKUN, "符合最低生活保障或特困人员救助供养条件"
            )
        )
    income_ok = per_capita < line
    code = (
        ReasonCode.INCOME_BELOW_EDGE_LIMIT if income_ok else ReasonCode.INCOME_NOT_BELOW_EDGE_LIMIT
    )
    word = "低于" if income_ok else "不低于"
    reasons.append(
        reason(
            code,
            f"家庭月人均收入{format_yuan(per_capita)}{word}当地低保标准的"
            f"{policy.edge_multiplier.normalize():f}倍（{format_yuan(line)}）",
        )
    )
    asset_problems = _asset_reasons(household, policy, standard)
    reasons.extend(asset_problems or [_assets_ok_reason()])
    return ProgrammeAssessment(
        programme=Programme.DIBAO_EDGE,
        eligible=not dibao_or_tekun and income_ok and not asset_problems,
        monthly_amount=ZERO,
        per_capita_income=to_cents(per_capita),
        standard=to_cents(line),
        members_counted=size,
        reasons=reasons,
    )


def _single_person_candidates(household: Household, policy: Policy) -> list[Member]:
    return [
        m
        for m in household.members
        if meets_criteria(
            m.disability_category, m.disability_grade, policy.single_person_dibao_disabilities
        )
        or (m.serious_illness and policy.single_person_dibao_serious_illness)
    ]


def _assess_single_person(
    member: Member, policy: Policy, household_is_edge: bool
) -> ProgrammeAssessment:
    """单人保: a severely disabled or seriously ill member of a 低保边缘 household is assessed as
    a one-person household on their own income (低保办法 Art. 8; 焦民〔2022〕154号 第二条;
    晋民发〔2022〕38号 一.1; 云民社救〔2020〕8号 二(三))."""
    standard = policy.dibao_standard(member.hukou)
    own = member_net_income(member, policy)
    reasons = [
        reason(ReasonCode.SEVERE_DISABILITY_OR_ILLNESS, f"{member.name}为重度残疾人或重病患者")
    ]
    if not household_is_edge:
        reasons.append(reason(ReasonCode.HOUSEHOLD_NOT_EDGE, "所在家庭不属于最低生活保障边缘家庭"))
    income_ok = own < standard
    if income_ok:
        reasons.append(
            reason(
                ReasonCode.INCOME_BELOW_STANDARD,
                f"本人月收入{format_yuan(own)}低于当地低保标准{format_yuan(standard)}",
            )
        )
    else:
        reasons.append(
            reason(
                ReasonCode.INCOME_NOT_BELOW_STANDARD,
                f"本人月收入{format_yuan(own)}不低于当地低保标准{format_yuan(standard)}",
            )
        )
    eligible = household_is_edge and income_ok
    amount = ZERO
    if eligible:
        amount, minimum_applied = dibao_amount(standard - own, standard, policy)
        if minimum_applied:
            reasons.append(
                reason(
                    ReasonCode.MINIMUM_AMOUNT_APPLIED,
                    f"按当地保底金额{format_yuan(policy.minimum_monthly_amount)}发放",
                )
            )
    return ProgrammeAssessment(
        programme=Programme.DIBAO,
        single_person=True,
        member_id_number=member.id_number,
        eligible=eligible,
        monthly_amount=amount,
        per_capita_income=to_cents(own),
        standard=standard,
        members_counted=1,
        reasons=reasons,
    )


def _assess_rigid_expense(
    household: Household,
    policy: Policy,
    income: IncomeBreakdown,
    hukou: Hukou,
    excluded_by: Sequence[ReasonCode],
) -> ProgrammeAssessment:
    """刚性支出困难: not 低保/特困/边缘; per-capita income below last year's local per-capita
    disposable income (monthly = annual ÷ 12); rigid spending in the last 12 months above
    ``rigid_expense_threshold_share`` of household annual income; assets within limits
    (《刚性支出困难家庭认定办法》). No cash amount by itself."""
    size = household.size
    per_capita = income.before_rigid / size
    monthly_disposable = policy.per_capita_disposable_income_last_year / _MONTHS_PER_YEAR
    reasons: list[Reason] = []
    for code in excluded_by:
        if code is ReasonCode.QUALIFIES_FOR_EDGE:
            reasons.append(reason(code, "符合最低生活保障边缘家庭条件"))
        else:
            reasons.append(reason(code, "符合最低生活保障或特困人员救助供养条件"))
    income_ok = per_capita < monthly_disposable
    word = "低于" if income_ok else "不低于"
    reasons.append(
        reason(
            ReasonCode.INCOME_BELOW_DISPOSABLE_INCOME
            if income_ok
            else ReasonCode.INCOME_NOT_BELOW_DISPOSABLE_INCOME,
            f"家庭月人均收入{format_yuan(per_capita)}{word}上年度当地居民月人均可支配收入"
            f"{format_yuan(monthly_disposable)}",
        )
    )
    annual_income = income.before_rigid * _MONTHS_PER_YEAR
    rigid_total = sum((e.amount for e in household.rigid_expenditures_12m), ZERO)
    threshold = annual_income * policy.rigid_expense_threshold_share
    rigid_ok = rigid_total > threshold
    share = f"{(policy.rigid_expense_threshold_share * 100).normalize():f}%"
    reasons.append(
        reason(
            ReasonCode.RIGID_EXPENSE_ABOVE_THRESHOLD
            if rigid_ok
            else ReasonCode.RIGID_EXPENSE_NOT_ABOVE_THRESHOLD,
            f"近12个月刚性支出{format_yuan(rigid_total)}{'超过' if rigid_ok else '未超过'}"
            f"家庭年收入的{share}（{format_yuan(threshold)}）",
        )
    )
    asset_problems = _asset_reasons(household, policy, policy.dibao_standard(hukou))
    reasons.extend(asset_problems or [_assets_ok_reason()])
    return ProgrammeAssessment(
        programme=Programme.RIGID_EXPENSE,
        eligible=not excluded_by and income_ok and rigid_ok and not asset_problems,
        monthly_amount=ZERO,
        per_capita_income=to_cents(per_capita),
        standard=to_cents(monthly_disposable),
        members_counted=size,
        reasons=reasons,
    )


def assess(household: Household, policy: Policy, on: date) -> Assessment:
    """Assess ``household`` under ``policy`` on ``on`` (ages are taken on ``on``) for 低保,
    特困, 低保边缘, 单人保 and 刚性支出困难. See the module docstring for the order of outcomes."""
    hukou = household_hukou(household)
    income = household_income(household, policy)
    dibao = _assess_dibao(household, policy, income, hukou)
    tekun = _assess_tekun(household, policy, on)
    dibao_or_tekun = dibao.eligible or tekun.eligible
    edge = _assess_edge(household, policy, income, hukou, dibao_or_tekun)
    singles = [
        _assess_single_person(m, policy, edge.eligible)
        for m in _single_person_candidates(household, policy)
    ]
    excluded_by: list[ReasonCode] = []
    if dibao_or_tekun:
        excluded_by.append(ReasonCode.QUALIFIES_FOR_DIBAO_OR_TEKUN)
    if edge.eligible:
        excluded_by.append(ReasonCode.QUALIFIES_FOR_EDGE)
    rigid = _assess_rigid_expense(household, policy, income, hukou, excluded_by)
    return Assessment(
        as_of=on,
        policy_version_id=policy.version_id,
        area_code=policy.area_code,
        hukou=hukou,
        household_size=household.size,
        household_monthly_income=to_cents(income.counted),
        per_capita_income=to_cents(income.counted / household.size),
        programmes=[dibao, tekun, edge, *singles, rigid],
    )
