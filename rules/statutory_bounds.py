"""Statutory bounds on policy periods (DOMAIN §3, §4, §9): the one table of national minimums
and maximums every policy layer — the national file included — is checked against.

A jurisdiction may set its own periods (DOMAIN §9), but only inside the law: a deadline the
national measures fix as "within N working days" may be shortened locally, never lengthened;
a period the law fixes exactly (publicity "公示期为7天", the applicant's time to seek review or
sue) may not be changed at all. A deadline is at least one unit long (a 0-day deadline cannot
be met and would make every case overdue on arrival). A bound applies to the parameter in the
unit the law counts it in; the same number in another unit is refused.

Sources (cited in each row, and in every refusal):

- 低保办法 = 《最低生活保障审核确认办法》（民发〔2021〕57号）: investigation started within 3
  working days of acceptance (Art. 15), verification within 3 working days of the request
  (Art. 17), publicity 7 days (Art. 19), county decision within 10 working days (Art. 20),
  refusal notice within 3 working days of the decision (Art. 21), overall 30 working days from
  acceptance, at most 45 in special cases (Art. 22).
- 特困办法 = 《特困人员认定办法》（民发〔2021〕43号）: township opinion within 15 working days,
  publicity 7 days, a new opinion within 15 working days after an objection (Art. 13–18, DOMAIN
  §4), county decision within 15 working days (Art. 16), refusal notice within 3 working days
  (Art. 17).
- 民政部等2022年通知 (DOMAIN: the 2022-10 notice on 低保): 20 working days where the decision is
  delegated to the township.
- 《行政复议法》第二十条 (60 days to apply for review) and 《行政诉讼法》第四十六条 (6 months to
  sue), printed on every adverse notice (低保办法 Art. 38).

Not bounded here: the gradual-withdrawal period (the 2022 notice says ≤ 6 months, but Yunnan's
云民社救〔2020〕8号, seed 004, keeps 6–12 months in force as local policy) and periods no national
rule fixes (prepayment justification, spot-check completion, referral feedback …: DOMAIN §9).
"""

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from rules.periods import Period, PeriodUnit

__all__ = ["STATUTORY_BOUNDS", "StatutoryBound", "bound_problems"]

DIBAO = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
TEKUN = "《特困人员认定办法》（民发〔2021〕43号）"
NOTICE_2022 = "民政部等《关于进一步做好最低生活保障等社会救助兜底保障工作的通知》（2022年）"
REVIEW_LAW = "《中华人民共和国行政复议法》第二十条"
LAWSUIT_LAW = "《中华人民共和国行政诉讼法》第四十六条"


class StatutoryBound(BaseModel):
    """The legal range of one policy period: ``minimum`` ≤ value ≤ ``maximum`` in ``unit``
    (``minimum == maximum``: fixed by law), with the source that sets it."""

    model_config = ConfigDict(frozen=True)

    parameter: str
    label_zh: str
    minimum: int
    maximum: int
    unit: PeriodUnit
    source: str

    @property
    def fixed(self) -> bool:
        """The law fixes the period exactly (no local variation)."""
        return self.minimum == self.maximum

    def describe_zh(self) -> str:
        """The bound in the statute's words: "为7日", "不超过3个工作日"."""
        limit = Period(value=self.maximum, unit=self.unit).describe_zh()
        return f"为{limit}" if self.fixed else f"不超过{limit}"

    def problem(self, value: Period) -> str | None:
        """Why ``value`` breaks this bound (Chinese, then English), or ``None`` if it keeps it."""
        law = f"依{self.source}，{self.label_zh}（{self.parameter}）{self.describe_zh()}"
        if value.unit is not self.unit:
            unit = Period(value=self.maximum, unit=self.unit).describe_zh()
            return (
                f"{law}，须以与法定期限相同的单位（{self.unit.value}）计，不得设为"
                f"{value.describe_zh()} / {self.parameter} must be counted in {self.unit.value} "
                f"as the law counts it ({unit}), got {value.value} {value.unit.value}"
            )
        if self.fixed and value.value != self.maximum:
            return (
                f"{law}，地方不得变更，不得设为{value.describe_zh()} / {self.parameter} is fixed "
                f"by law at {self.maximum} {self.unit.value}, got {value.value}"
            )
        if value.value > self.maximum:
            return (
                f"{law}，地方可缩短不可延长，不得设为{value.describe_zh()} / {self.parameter} "
                f"may be at most {self.maximum} {self.unit.value} (the statutory maximum), "
                f"got {value.value}"
            )
        if value.value < self.minimum:
            return (
                f"{law}，且期限至少为{Period(value=self.minimum, unit=self.unit).describe_zh()}，"
                f"不得设为{value.describe_zh()} / {self.parameter} must be at least "
                f"{self.minimum} {self.unit.value}, got {value.value}"
            )
        return None


def _bound(
    parameter: str,
    label_zh: str,
    maximum: int,
    unit: PeriodUnit,
    source: str,
    *,
    fixed: bool = False,
) -> StatutoryBound:
    return StatutoryBound(
        parameter=parameter,
        label_zh=label_zh,
        minimum=maximum if fixed else 1,
        maximum=maximum,
        unit=unit,
        source=source,
    )


_WD = PeriodUnit.WORKING_DAYS
_CD = PeriodUnit.CALENDAR_DAYS

STATUTORY_BOUNDS: Mapping[str, StatutoryBound] = MappingProxyType(
    {
        bound.parameter: bound
        for bound in (
            _bound("investigation_start", "启动家庭经济状况调查期限", 3, _WD, f"{DIBAO}第十五条"),
            _bound("verification_start", "启动信息核对期限", 3, _WD, f"{DIBAO}第十七条"),
            _bound("publicity", "公示期", 7, _CD, f"{DIBAO}第十九条、{TEKUN}", fixed=True),
            _bound("dibao_decision", "低保审核确认期限", 10, _WD, f"{DIBAO}第二十条"),
            _bound("tekun_initial_opinion", "特困初审意见期限", 15, _WD, TEKUN),
            _bound("tekun_objection_opinion", "特困异议后重新初审期限", 15, _WD, TEKUN),
            _bound("tekun_decision", "特困确认期限", 15, _WD, f"{TEKUN}第十六条"),
            _bound("overall", "审核确认总时限", 30, _WD, f"{DIBAO}第二十二条"),
            _bound("overall_special", "特殊情况审核确认总时限", 45, _WD, f"{DIBAO}第二十二条"),
            _bound("overall_delegated", "下放乡镇审核确认总时限", 20, _WD, NOTICE_2022),
            _bound(
                "refusal_notice",
                "不予确认书面告知期限",
                3,
                _WD,
                f"{DIBAO}第二十一条、{TEKUN}第十七条",
            ),
            _bound(
                "administrative_review_period", "申请行政复议期限", 60, _CD, REVIEW_LAW, fixed=True
            ),
            _bound(
                "lawsuit_period", "提起行政诉讼期限", 6, PeriodUnit.MONTHS, LAWSUIT_LAW, fixed=True
            ),
        )
    }
)
"""Parameter → its statutory bound: the one table (DOMAIN §3, §4, §9)."""


def bound_problems(parameters: Mapping[str, object]) -> list[tuple[str, str]]:
    """``(parameter, reason)`` for every parameter in ``parameters`` (a layer's set values, by
    name) that breaks its statutory bound; parameters without a bound are not looked at."""
    problems: list[tuple[str, str]] = []
    for name, bound in STATUTORY_BOUNDS.items():
        value = parameters.get(name)
        if isinstance(value, Period):
            reason = bound.problem(value)
            if reason is not None:
                problems.append((name, reason))
    return problems
