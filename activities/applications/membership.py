"""The application's side of the household-membership index (``jiuzhu.membership``): the
workflow owns its claims after creation — an investigation that finds new members claims them
(and releases dropped ones), a case that ends without approval releases them, an approval hands
them to the entitlement. Each activity is idempotent (it converges on the desired rows)."""

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_membership import HouseholdMembership
from jiuzhu.db.sealing import blind_indexes
from jiuzhu.household_ids import resolve_household_id
from jiuzhu.membership import Clash, MemberClaim, applies_to, claim, release, transfer


class SettleMembers(BaseModel):
    """The household as investigated: claim every member for ``case_id``, release the ones it
    held that are no longer members."""

    case_id: str
    programme: str
    household_id: str
    members: list[MemberClaim] = Field(default_factory=list)


class SettledMembers(BaseModel):
    clash: Clash | None = None
    released: list[str] = Field(default_factory=list)


class ReleaseMembers(BaseModel):
    case_id: str
    programme: str


class TransferMembers(BaseModel):
    """An approved application's claims go to its entitlement (``entitlement_id``); without an
    entitlement (nothing paid) they are released."""

    case_id: str
    programme: str
    entitlement_id: str | None
    household_id: str


class HouseholdKey(BaseModel):
    """Whose household: the applicant's ID number and the area it is registered in."""

    applicant_id_number: str
    area_code: str


class MembershipActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="membership_household_id")
    def household_id(self, req: HouseholdKey) -> str:
        """The household's opaque id (``jiuzhu.household_ids``): workflow code holds no key, so
        a case that opens a household of its own (单人保) asks for it here."""
        with Session(self.engine) as session:
            return resolve_household_id(session, req.applicant_id_number, req.area_code)

    @activity.defn(name="membership_settle")
    def settle_members(self, req: SettleMembers) -> SettledMembers:
        """Claim all investigated members or none (a member held by another case comes back as
        the clash, nothing written); then release the case's other claims."""
        if not applies_to(req.programme):
            return SettledMembers()
        with Session(self.engine, expire_on_commit=False) as session:
            clash = claim(session, req.programme, req.case_id, req.household_id, req.members)
            if clash is not None:
                return SettledMembers(clash=clash)
            keep = {m.id_number for m in req.members}
            held = session.exec(
                select(HouseholdMembership.id_number).where(
                    HouseholdMembership.case_id == req.case_id
                )
            ).all()
            dropped = sorted(i for i in held if i not in keep)
            release(session, req.case_id, dropped)
            session.commit()
        return SettledMembers(released=dropped)

    @activity.defn(name="membership_release")
    def release_members(self, req: ReleaseMembers) -> int:
        """The case ended without approval (refused, withdrawn, terminated, lapsed)."""
        with unit_of_work(self.engine) as session:
            return release(session, req.case_id)

    @activity.defn(name="membership_transfer")
    def transfer_members(self, req: TransferMembers) -> int:
        with unit_of_work(self.engine) as session:
            if req.entitlement_id is None:
                return release(session, req.case_id)
            return transfer(session, req.case_id, req.entitlement_id, req.household_id)


def holders(session: Session, programme: str, id_numbers: list[str]) -> dict[str, str]:
    """Who holds each person now (ID number → case id), for reports and tests."""
    rows = session.exec(
        select(HouseholdMembership).where(
            HouseholdMembership.programme == programme,
            col(HouseholdMembership.id_number_index).in_(blind_indexes(id_numbers)),
        )
    ).all()
    return {r.id_number: r.case_id for r in rows}
