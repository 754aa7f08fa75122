"""The referral domain's contract, imported by the API, the worker and the activities: the
workflow type, the referral's id, the departments and needs, statuses, answer outcomes and the
names of its messages. Pure (no I/O, no workflow classes).

A referral (转介) hands one need of a household found in a case (an application, an entitlement
or a temporary case) to the department that provides that assistance, and records the
department's answer, so that each household has one assistance chain and nothing is missed or
given twice (seed 001 二(二)1(3): 各相关部门要及时将救助帮扶信息反馈…形成"一户（人）一条救助链"，
避免救助遗漏或重复救助; the departments and what they give: seed 001 二(三)2–5, seed 000 四(二))."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

REFERRAL_WORKFLOW_TYPE = "ReferralWorkflow"

# Names of the messages the referral workflow takes.
RECORD_ANSWER = "record_answer"
WITHDRAW = "withdraw"
GET_STATE = "get_state"

# The referral's one deadline (policy ``referral_feedback``).
FEEDBACK_DEADLINE = "referral_feedback"


def referral_workflow_id(referral_id: str) -> str:
    return f"referral-{referral_id}"


class Department(StrEnum):
    """Departments a case is referred to (seed 001 二(三)2 专项社会救助, 5 其他救助帮扶; seed 000
    四(二)); ``anti_relapse`` is the rural-revitalisation department's 防止返贫 monitoring and
    assistance (seed 000 五(二) 乡村振兴部门; seed 001 二(一))."""

    MEDICAL_AID = "medical_aid"  # 医疗救助 (医保局, 卫生健康委)
    EDUCATION_AID = "education_aid"  # 教育救助 (教育部门)
    HOUSING = "housing"  # 住房救助 (住房城乡建设部门)
    EMPLOYMENT = "employment"  # 就业救助 (人力资源社会保障部门)
    DISABILITY = "disability"  # 残联
    ANTI_RELAPSE = "anti_relapse"  # 防止返贫监测帮扶 (农业农村/乡村振兴部门)


DEPARTMENT_NAMES_ZH: Mapping[Department, str] = MappingProxyType(
    {
        Department.MEDICAL_AID: "医疗救助（医疗保障部门）",
        Department.EDUCATION_AID: "教育救助（教育部门）",
        Department.HOUSING: "住房救助（住房城乡建设部门）",
        Department.EMPLOYMENT: "就业救助（人力资源社会保障部门）",
        Department.DISABILITY: "残疾人帮扶（残联）",
        Department.ANTI_RELAPSE: "防止返贫监测帮扶（农业农村部门）",
    }
)


class Need(StrEnum):
    """What is asked of the department (seed 001 二(三)2(1)–(4), 5)."""

    # 医疗救助
    INSURANCE_SUBSIDY = "insurance_subsidy"  # 参保资助
    HOSPITALISATION = "hospitalisation"  # 住院费用救助
    OUTPATIENT_CHRONIC = "outpatient_chronic"  # 慢性病、重特大疾病门诊费用救助
    # 教育救助
    SCHOOL_GRANT = "school_grant"  # 助学金、生活补助
    FEE_WAIVER = "fee_waiver"  # 减免学（杂）费
    # 住房救助
    PUBLIC_RENTAL = "public_rental"  # 公租房、租赁补贴
    RURAL_HOUSING_REPAIR = "rural_housing_repair"  # 农村危房改造
    # 就业救助
    JOB_PLACEMENT = "job_placement"  # 职业培训、推荐就业
    PUBLIC_WELFARE_POST = "public_welfare_post"  # 公益性岗位安置
    # 残联
    DISABILITY_SUBSIDY = "disability_subsidy"  # 困难残疾人生活补贴、重度残疾人护理补贴
    REHABILITATION = "rehabilitation"  # 残疾儿童康复救助、无障碍改造
    # 防止返贫
    MONITORING_ENROLMENT = "monitoring_enrolment"  # 纳入防止返贫监测
    DEVELOPMENT_SUPPORT = "development_support"  # 产业、就业帮扶


NEEDS: Mapping[Department, frozenset[Need]] = MappingProxyType(
    {
        Department.MEDICAL_AID: frozenset(
            {Need.INSURANCE_SUBSIDY, Need.HOSPITALISATION, Need.OUTPATIENT_CHRONIC}
        ),
        Department.EDUCATION_AID: frozenset({Need.SCHOOL_GRANT, Need.FEE_WAIVER}),
        Department.HOUSING: frozenset({Need.PUBLIC_RENTAL, Need.RURAL_HOUSING_REPAIR}),
        Department.EMPLOYMENT: frozenset({Need.JOB_PLACEMENT, Need.PUBLIC_WELFARE_POST}),
        Department.DISABILITY: frozenset({Need.DISABILITY_SUBSIDY, Need.REHABILITATION}),
        Department.ANTI_RELAPSE: frozenset({Need.MONITORING_ENROLMENT, Need.DEVELOPMENT_SUPPORT}),
    }
)
"""The needs each department answers for (a referral names one of its department's)."""

NEED_NAMES_ZH: Mapping[Need, str] = MappingProxyType(
    {
        Need.INSURANCE_SUBSIDY: "城乡居民医保参保资助",
        Need.HOSPITALISATION: "住院费用医疗救助",
        Need.OUTPATIENT_CHRONIC: "慢性病、重特大疾病门诊费用救助",
        Need.SCHOOL_GRANT: "助学金、生活补助",
        Need.FEE_WAIVER: "减免学（杂）费",
        Need.PUBLIC_RENTAL: "配租公租房或发放租赁补贴",
        Need.RURAL_HOUSING_REPAIR: "农村危房改造",
        Need.JOB_PLACEMENT: "职业培训、推荐就业",
        Need.PUBLIC_WELFARE_POST: "公益性岗位安置",
        Need.DISABILITY_SUBSIDY: "困难残疾人生活补贴、重度残疾人护理补贴",
        Need.REHABILITATION: "残疾儿童康复救助、无障碍改造",
        Need.MONITORING_ENROLMENT: "纳入防止返贫监测",
        Need.DEVELOPMENT_SUPPORT: "产业、就业帮扶",
    }
)


class SourceKind(StrEnum):
    """The kind of case a referral comes from (``case_record.case_kind``)."""

    APPLICATION = "application"
    ENTITLEMENT = "entitlement"
    TEMPORARY = "temporary"


class ReferralStatus(StrEnum):
    """Where a referral stands (stored in ``case_record.status`` and ``referral.status``)."""

    AWAITING_ANSWER = "awaiting_answer"  # referred; the department's answer not yet recorded
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"  # withdrawn by the referring side before an answer


STATUS_NAMES_ZH: Mapping[ReferralStatus, str] = MappingProxyType(
    {
        ReferralStatus.AWAITING_ANSWER: "待部门反馈",
        ReferralStatus.ANSWERED: "部门已反馈",
        ReferralStatus.WITHDRAWN: "已撤回",
    }
)

# The Web UI's current details (``jiuzhu.console``): every status in Chinese.
STATUS_LABELS_ZH: Mapping[ReferralStatus, str] = STATUS_NAMES_ZH


class AnswerOutcome(StrEnum):
    """The department's answer."""

    GRANTED = "granted"  # 已给予救助帮扶
    DECLINED = "declined"  # 不符合条件，不予救助（附理由）
    REDIRECTED = "redirected"  # 转由其他渠道办理（附说明）


OUTCOME_NAMES_ZH: Mapping[AnswerOutcome, str] = MappingProxyType(
    {
        AnswerOutcome.GRANTED: "已给予救助帮扶",
        AnswerOutcome.DECLINED: "不予救助",
        AnswerOutcome.REDIRECTED: "转由其他渠道办理",
    }
)
