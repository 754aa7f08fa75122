"""Chinese labels of the step forms: field names (the API's English field names, DOMAIN.md's
glossary) and choices (the domain's own ``*_NAMES_ZH`` where one exists). Presentation only: a
field missing here shows its API name, never a wrong rule."""

from enum import Enum

from rules.disability import DISABILITY_CATEGORY_NAMES_ZH
from rules.household import RELATION_NAMES_ZH

FIELD_LABELS_ZH: dict[str, str] = {
    "accepted_on": "受理日期（书面）",
    "documents": "材料",
    "missing": "须补齐的材料",
    "submit_by": "补齐期限",
    "contact": "联系方式",
    "received_on": "收到日期（书面）",
    "visited_on": "调查日期（书面）",
    "investigators": "调查人员（至少二人）",
    "method": "调查方式",
    "remote_reason_zh": "远程调查理由",
    "signed_by_household": "调查表经申请人签字确认",
    "findings_zh": "调查结论",
    "household": "家庭经济状况",
    "members": "家庭成员",
    "name": "姓名",
    "id_number": "身份证号",
    "relation": "与申请人关系",
    "birth_date": "出生日期",
    "hukou": "户籍类型",
    "disability_category": "残疾类别",
    "disability_grade": "残疾等级（1–4）",
    "serious_illness": "患重病",
    "work_capacity": "劳动能力",
    "student": "在校学生",
    "incomes": "月收入",
    "kind": "类别",
    "monthly_amount": "月金额（元）",
    "description": "说明",
    "employment_costs": "就业成本（元/月）",
    "self_care": "生活自理能力评估（特困）",
    "eating": "能自主进食",
    "dressing": "能自主穿衣",
    "getting_out_of_bed": "能自主上下床",
    "toileting": "能自主如厕",
    "walking_indoors": "能室内行走",
    "bathing": "能自主洗澡",
    "assets": "家庭财产",
    "value": "价值（元）",
    "rigid_expenditures_12m": "近12个月刚性支出",
    "amount": "金额（元）",
    "legal_supporters": "法定赡养、抚养、扶养义务人",
    "able_to_support": "有赡养能力",
    "monthly_support": "月赡养费（元）",
    "card_account": "社会保障卡账户",
    "holder_name": "持卡人姓名",
    "holder_id_number": "持卡人身份证号",
    "account_number": "账号",
    "bank_code": "银行代码",
    "statement_zh": "异议陈述",
    "evidence": "证据材料",
    "source": "数据来源",
    "held_on": "评议日期（书面）",
    "participants": "参加人数",
    "votes_for": "同意票数",
    "votes_against": "不同意票数",
    "conclusion_zh": "评议结论",
    "recommendation": "初审意见",
    "opinion_on": "初审日期（书面）",
    "posted_on": "张榜公示日期（书面）",
    "proposed_amount": "拟救助金额（元/月）",
    "reason_zh": "理由",
    "note_zh": "备注",
    "objector_name": "异议人姓名",
    "content_zh": "异议内容",
    "visitors": "核查人员（至少二人）",
    "reason": "原因",
    "outcome": "审核确认结果",
    "decided_on": "审核确认日期（书面）",
    "amount_reason_zh": "金额说明",
    "reasons": "不予批准理由",
    "code": "理由代码",
    "text_zh": "理由说明",
    "reasons_zh": "理由（每行一条）",
    "institution_name": "供养机构名称",
    "filed_on": "备案日期（书面）",
    "notice_id": "通知书编号",
    "delivered_on": "送达日期（书面）",
    "recipient_name": "签收人姓名",
    "answered_on": "答复日期（书面）",
    "consent": "是否同意",
    "withdrawn_on": "撤回日期（书面）",
    "grounds_zh": "理由",
}

CHOICE_LABELS_ZH: dict[str, str] = {
    "urban": "城镇",
    "rural": "农村",
    "full": "完全劳动能力",
    "partial": "部分劳动能力",
    "none": "无劳动能力",
    "wage": "工资性收入",
    "business": "经营净收入",
    "property": "财产净收入",
    "transfer": "转移净收入",
    "pension": "养老金",
    "support": "赡养费",
    "excluded": "不计入收入",
    "deposit": "存款",
    "securities": "有价证券",
    "vehicle": "机动车辆",
    "real_estate_second": "第二套住房",
    "business_equity": "经营性股权",
    "medical": "医疗",
    "education": "教育",
    "disability_rehabilitation": "残疾康复",
    "living": "生活",
    "other": "其他",
    "home_visit": "入户调查",
    "remote": "电话、视频（重大突发事件）",
    "approve": "同意",
    "refuse": "不同意",
    "publicity_objection": "公示有异议",
    "separated_from_registration": "人户分离",
    "cross_region": "异地申请",
    "hard_investigation": "调查核实难度大",
}


def field_label(name: str) -> str:
    return FIELD_LABELS_ZH.get(name, name)


def choice_label(member: Enum) -> str:
    """The Chinese name of a choice: the domain's own name where it has one."""
    for names in (RELATION_NAMES_ZH, DISABILITY_CATEGORY_NAMES_ZH):
        if member in names:
            return str(names[member])  # type: ignore[index]
    value = str(member.value)
    return CHOICE_LABELS_ZH.get(value, value)
