"""The warning rules of the data comparison (动态监测预警), pure: which record of which kind
raises a warning for which member of the monitoring population, under the policy in force.

豫政办〔2022〕103号 三(三) (seed 000): for people already assisted, watch whether they still
qualify; for the others, watch whether their situation worsened; 民政部门要合理设置预警指标 — the
indicators are policy parameters (``rules/policy.py``: ``warning_income_ratio``,
``warning_medical_expense``, and the means-test limits ``financial_assets_limit_months``,
``vehicle_value_exempt``, ``business_equity_allowed``). A warning only asks for a home visit:
nobody's payment changes on a warning alone (焦民〔2022〕154号, seed 002: 不得仅凭数据比对结果停发).
"""

from decimal import Decimal

from rules.policy import Policy
from workflows.monitoring.contract import (
    RECIPIENT_CATEGORIES,
    DataKind,
    MonitoringCategory,
)

BASIS = (
    "豫政办〔2022〕103号 三(三)（seed 000）：触发预警的，由乡镇（街道）组织工作人员上门核查情况，"
    "告知相关社会救助政策，如有需要协助其提出申请；可能不再符合条件的，核实后依法处理"
    "（期限：地方政策 warning_home_visit）"
)


def warning_rule(
    kind: DataKind, amount: Decimal | None, category: MonitoringCategory, policy: Policy
) -> str | None:
    """Why this record raises a warning for a person of ``category`` (Chinese), or None.

    - income: a 低保/特困 member's monthly income ≥ ``warning_income_ratio`` × the rural 低保
      standard (may no longer qualify); anyone else's below the standard (may now qualify);
    - assets: a 低保/特困 member's financial assets above ``financial_assets_limit_months``
      months of the rural standard;
    - death, disability: always (the household's situation changed);
    - hospitalisation: out-of-pocket costs ≥ ``warning_medical_expense`` (支出型困难);
    - vehicle: a 低保/特困 member's vehicle worth more than ``vehicle_value_exempt``;
    - business: a 低保/特困 member's business, unless ``business_equity_allowed``."""
    recipient = category in RECIPIENT_CATEGORIES
    standard = policy.dibao_standard_rural
    if kind is DataKind.INCOME and amount is not None:
        threshold = (standard * policy.warning_income_ratio).quantize(Decimal("0.01"))
        if recipient and amount >= threshold:
            return f"月收入{amount}元，不低于预警线{threshold}元，可能不再符合救助条件"
        if not recipient and amount < standard:
            return f"月收入{amount}元，低于当地农村低保标准{standard}元，可能符合救助条件"
        return None
    if kind is DataKind.ASSETS and amount is not None and recipient:
        limit = (standard * policy.financial_assets_limit_months).quantize(Decimal("0.01"))
        if amount > limit:
            months = policy.financial_assets_limit_months
            return f"金融资产{amount}元，超过{months}个月低保标准合计{limit}元"
        return None
    if kind is DataKind.DEATH:
        return "死亡比对发现家庭成员死亡，家庭状况发生变化"
    if kind is DataKind.DISABILITY:
        return "新办理残疾证，可能符合单独纳入低保、特困供养或调整照料护理标准的条件"
    if kind is DataKind.HOSPITALISATION and amount is not None:
        if amount >= policy.warning_medical_expense:
            return (
                f"住院自付费用{amount}元，达到预警线{policy.warning_medical_expense}元，"
                "可能出现支出型困难"
            )
        return None
    if kind is DataKind.VEHICLE and amount is not None and recipient:
        if amount > policy.vehicle_value_exempt:
            return f"登记车辆价值{amount}元，超过可豁免的{policy.vehicle_value_exempt}元"
        return None
    if kind is DataKind.BUSINESS and recipient and not policy.business_equity_allowed:
        return "有工商登记（开办或投资企业），可能不再符合救助条件"
    return None
