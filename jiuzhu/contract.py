"""The kernel's contract shared by every domain, the API and the worker: roles, actors, case
kinds, the legacy household id and the search attributes. Pure (no I/O), so workflows may import it.
Each domain's own ids and statuses live in its ``contract`` module."""

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from temporalio.common import SearchAttributeKey


class Role(StrEnum):
    """Who acts (DOMAIN §2)."""

    VILLAGE_ASSISTANT = "village_assistant"
    TOWNSHIP_OFFICER = "township_officer"
    COUNTY_OFFICER = "county_officer"
    FINANCE = "finance"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.VILLAGE_ASSISTANT: "村/社区协理员",
    Role.TOWNSHIP_OFFICER: "乡镇/街道经办人",
    Role.COUNTY_OFFICER: "县级民政部门",
    Role.FINANCE: "县级财政部门",
    Role.AUDITOR: "监督检查人员",
    Role.ADMIN: "系统管理员",
}


class Actor(BaseModel):
    """The officer behind a request; carried into workflow updates so validators can check role
    and area and the audit log can say who acted."""

    model_config = ConfigDict(frozen=True)

    officer_id: str
    name: str
    role: Role
    area_code: str

    def covers(self, area_code: str) -> bool:
        """An officer acts only inside the area they belong to (DOMAIN §2)."""
        return area_code.startswith(self.area_code)


class CaseKind(StrEnum):
    APPLICATION = "application"
    ENTITLEMENT = "entitlement"
    PAYROLL = "payroll"
    TEMPORARY = "temporary"
    RECOVERY = "recovery"  # an overpayment receivable (追回多发救助金)
    BANK_BATCH = "bank_batch"  # a daily bank batch of temporary assistance
    SPOT_CHECK = "spot_check"  # a county's monthly spot check of decisions (抽查)
    COMPLAINT = "complaint"  # a complaint or report (投诉举报)
    WARNING = "warning"  # a monitoring warning's home visit (动态监测预警)
    REFERRAL = "referral"  # a referral to another department (一户一条救助链)
    RECOGNITION = "recognition"  # a 低保边缘/刚性支出困难 recognition's yearly review
    LISTING = "listing"  # a village's long-term public listing on its board (长期公示)
    CAMPAIGN = "campaign"  # a one-off subsidy campaign (一次性补贴发放), set by its starter
    LAUNCHER = "launcher"  # a scheduled run that only starts the period's canonical workflow


def legacy_household_id(applicant_id_number: str, area_code: str) -> str:
    """The household id given before ids were keyed: an *unkeyed* SHA-256 of the applicant's ID
    number and county, which anyone can recompute from an ID number. Kept only so a household
    that already has one keeps it (``jiuzhu.household_ids.resolve_household_id``), and for
    workflows recorded before the ``keyed-household-id`` patch. New households get
    ``jiuzhu.household_ids.household_id_for``."""
    digest = hashlib.sha256(f"{applicant_id_number}\x1f{area_code[:6]}".encode()).hexdigest()
    return f"H{digest[:15].upper()}"


# Search attributes (registered on the dev server by `make run` and the test harness; the
# SQLite dev server allows 10 Keyword, 3 Datetime, 3 Bool).
SA_CASE_KIND = SearchAttributeKey.for_keyword("CaseKind")
SA_PROGRAMME = SearchAttributeKey.for_keyword("Programme")
SA_STATUS = SearchAttributeKey.for_keyword("ProgrammeStatus")
SA_AREA = SearchAttributeKey.for_keyword("AreaCode")
SA_COUNTY = SearchAttributeKey.for_keyword("CountyCode")
SA_TOWNSHIP = SearchAttributeKey.for_keyword("TownshipCode")
SA_HOUSEHOLD = SearchAttributeKey.for_keyword("HouseholdId")
SA_NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
SA_OVERDUE = SearchAttributeKey.for_bool("Overdue")
SA_PROVISIONAL = SearchAttributeKey.for_bool("HasProvisionalDeadline")
# The decision outcome once a case reaches it (approved, refused, withdrawn, lapsed, …), so the
# Web UI tells outcomes apart instead of showing every closed case as COMPLETED (issue 13 item 6).
SA_OUTCOME = SearchAttributeKey.for_keyword("DecisionOutcome")

ALL_SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    SA_CASE_KIND,
    SA_PROGRAMME,
    SA_STATUS,
    SA_AREA,
    SA_COUNTY,
    SA_TOWNSHIP,
    SA_HOUSEHOLD,
    SA_NEXT_DEADLINE,
    SA_OVERDUE,
    SA_PROVISIONAL,
    SA_OUTCOME,
)


def search_attribute_cli_args() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    kinds = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}
    args: list[str] = []
    for key in ALL_SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}"]
    return args
