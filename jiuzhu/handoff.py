"""What an approved application hands to the entitlement that pays it (DOMAIN §3 step 7, §5).

The application workflow starts the entitlement as a child workflow of type
``ENTITLEMENT_WORKFLOW_TYPE`` with id ``entitlement_workflow_id(household_id, programme)`` and
parent-close policy ABANDON (an entitlement outlives its application by years), passing an
``ApprovedCase``. The entitlement workflow's input model extends ``ApprovedCase``."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from jiuzhu.contract import Actor
from rules.household import Household
from rules.programmes import Programme

ENTITLEMENT_WORKFLOW_TYPE = "EntitlementWorkflow"


class CardAccount(BaseModel):
    """The social-security card account (社保卡 一卡通) that payments are credited to."""

    holder_name: str
    holder_id_number: str
    account_number: str
    bank_code: str = ""


class ApprovedCase(BaseModel):
    application_id: str
    household_id: str
    programme: Programme
    single_person: bool = False
    area_code: str
    household: Household
    monthly_amount: Decimal = Field(decimal_places=2)
    start_month: date  # first day of the month payment starts (the month after approval)
    approved_at: datetime
    approved_by: Actor
    policy_version_id: str
    card_account: CardAccount
    members_can_work: bool = False
    centralised: bool = False  # 特困 集中供养: paid to the institution
    institution_name: str | None = None
    care_tier: str | None = None
