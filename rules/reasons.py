"""Reasons for an assessment outcome: a machine code, Chinese text, and the legal basis.

Reasons travel into refusal notices (低保办法 Art. 21: a refusal states its reasons), so each
carries the rule it rests on. Basis strings cite the measure and article, e.g.
"《最低生活保障审核确认办法》第十三条".
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

DIBAO_MEASURES = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
TEKUN_MEASURES = "《特困人员认定办法》（民发〔2021〕43号）"
RIGID_MEASURES = "《刚性支出困难家庭认定办法》"
HENAN_MONITORING = (
    "《河南省人民政府办公厅关于加强低收入人口动态监测和救助帮扶工作"
    "巩固脱贫攻坚兜底保障成果的实施意见》（豫政办〔2022〕103号）"
)
LOW_INCOME_OPINION = (
    "《关于加强低收入人口动态监测做好分层分类社会救助工作的意见》（国办发〔2023〕39号）"
)


class ReasonCode(StrEnum):
    """Machine-readable reason codes."""

    INCOME_BELOW_STANDARD = "INCOME_BELOW_STANDARD"
    INCOME_NOT_BELOW_STANDARD = "INCOME_NOT_BELOW_STANDARD"
    ASSETS_WITHIN_LIMITS = "ASSETS_WITHIN_LIMITS"
    ASSETS_OVER_LIMIT = "ASSETS_OVER_LIMIT"
    VEHICLE_OVER_LIMIT = "VEHICLE_OVER_LIMIT"
    SECOND_HOME_OWNED = "SECOND_HOME_OWNED"
    BUSINESS_EQUITY_OWNED = "BUSINESS_EQUITY_OWNED"
    MINIMUM_AMOUNT_APPLIED = "MINIMUM_AMOUNT_APPLIED"
    NO_WORK_CAPACITY = "NO_WORK_CAPACITY"
    HAS_WORK_CAPACITY = "HAS_WORK_CAPACITY"
    NO_INCOME_SOURCE = "NO_INCOME_SOURCE"
    HAS_INCOME_SOURCE = "HAS_INCOME_SOURCE"
    NO_ABLE_SUPPORTER = "NO_ABLE_SUPPORTER"
    HAS_ABLE_SUPPORTER = "HAS_ABLE_SUPPORTER"
    SELF_CARE_ASSESSMENT_MISSING = "SELF_CARE_ASSESSMENT_MISSING"
    QUALIFIES_FOR_DIBAO_OR_TEKUN = "QUALIFIES_FOR_DIBAO_OR_TEKUN"
    QUALIFIES_FOR_EDGE = "QUALIFIES_FOR_EDGE"
    INCOME_BELOW_EDGE_LIMIT = "INCOME_BELOW_EDGE_LIMIT"
    INCOME_NOT_BELOW_EDGE_LIMIT = "INCOME_NOT_BELOW_EDGE_LIMIT"
    SEVERE_DISABILITY_OR_ILLNESS = "SEVERE_DISABILITY_OR_ILLNESS"
    HOUSEHOLD_NOT_EDGE = "HOUSEHOLD_NOT_EDGE"
    INCOME_BELOW_DISPOSABLE_INCOME = "INCOME_BELOW_DISPOSABLE_INCOME"
    INCOME_NOT_BELOW_DISPOSABLE_INCOME = "INCOME_NOT_BELOW_DISPOSABLE_INCOME"
    RIGID_EXPENSE_ABOVE_THRESHOLD = "RIGID_EXPENSE_ABOVE_THRESHOLD"
    RIGID_EXPENSE_NOT_ABOVE_THRESHOLD = "RIGID_EXPENSE_NOT_ABOVE_THRESHOLD"


REASON_BASIS: Mapping[ReasonCode, str] = MappingProxyType(
    {
        ReasonCode.INCOME_BELOW_STANDARD: f"{DIBAO_MEASURES}第三条、第十三条",
        ReasonCode.INCOME_NOT_BELOW_STANDARD: f"{DIBAO_MEASURES}第三条、第十三条",
        ReasonCode.ASSETS_WITHIN_LIMITS: f"{DIBAO_MEASURES}第十四条",
        ReasonCode.ASSETS_OVER_LIMIT: f"{DIBAO_MEASURES}第十四条",
        ReasonCode.VEHICLE_OVER_LIMIT: f"{DIBAO_MEASURES}第十四条",
        ReasonCode.SECOND_HOME_OWNED: f"{DIBAO_MEASURES}第十四条",
        ReasonCode.BUSINESS_EQUITY_OWNED: f"{DIBAO_MEASURES}第十四条",
        ReasonCode.MINIMUM_AMOUNT_APPLIED: "当地最低生活保障金保底发放规定",
        ReasonCode.NO_WORK_CAPACITY: f"{TEKUN_MEASURES}第六条",
        ReasonCode.HAS_WORK_CAPACITY: f"{TEKUN_MEASURES}第五条、第六条",
        ReasonCode.NO_INCOME_SOURCE: f"{TEKUN_MEASURES}第七条",
        ReasonCode.HAS_INCOME_SOURCE: f"{TEKUN_MEASURES}第五条、第七条",
        ReasonCode.NO_ABLE_SUPPORTER: f"{TEKUN_MEASURES}第八条",
        ReasonCode.HAS_ABLE_SUPPORTER: f"{TEKUN_MEASURES}第五条、第八条",
        ReasonCode.SELF_CARE_ASSESSMENT_MISSING: f"{TEKUN_MEASURES}第二十条",
        ReasonCode.QUALIFIES_FOR_DIBAO_OR_TEKUN: f"{HENAN_MONITORING}二(一)3",
        ReasonCode.QUALIFIES_FOR_EDGE: LOW_INCOME_OPINION,
        ReasonCode.INCOME_BELOW_EDGE_LIMIT: f"{HENAN_MONITORING}二(一)3",
        ReasonCode.INCOME_NOT_BELOW_EDGE_LIMIT: f"{HENAN_MONITORING}二(一)3",
        ReasonCode.SEVERE_DISABILITY_OR_ILLNESS: f"{DIBAO_MEASURES}第八条",
        ReasonCode.HOUSEHOLD_NOT_EDGE: f"{DIBAO_MEASURES}第八条",
        ReasonCode.INCOME_BELOW_DISPOSABLE_INCOME: RIGID_MEASURES,
        ReasonCode.INCOME_NOT_BELOW_DISPOSABLE_INCOME: RIGID_MEASURES,
        ReasonCode.RIGID_EXPENSE_ABOVE_THRESHOLD: RIGID_MEASURES,
        ReasonCode.RIGID_EXPENSE_NOT_ABOVE_THRESHOLD: RIGID_MEASURES,
    }
)


class Reason(BaseModel):
    """Why an outcome is what it is: ``code`` for machines, ``text_zh`` for people, ``basis``
    the rule it rests on."""

    model_config = ConfigDict(frozen=True)

    code: ReasonCode
    text_zh: str
    basis: str


def reason(code: ReasonCode, text_zh: str) -> Reason:
    """A ``Reason`` with the standard basis for ``code``."""
    return Reason(code=code, text_zh=text_zh, basis=REASON_BASIS[code])
