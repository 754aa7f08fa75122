"""Reports over the read model. ``duplicate-memberships``: the sweep of data from before the
one-household rule (issue 11 item 4; 低保办法 Art. 6, DOMAIN §7 一户一条救助链) — people who are
members of two active households of the same programme (active entitlements' members, open
applications, the membership index), with every case, for the county to settle (e.g. by a
member's move-out, 成员迁出, in one of the cases)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.db import DatabaseDep
from api.deps import require_roles
from jiuzhu.contract import Actor, Role
from jiuzhu.membership import DuplicateMembership, duplicates
from rules.programmes import Programme

router = APIRouter(prefix="/reports", tags=["reports"])

SUPERVISORS = (Role.COUNTY_OFFICER, Role.ADMIN, Role.AUDITOR)
Supervisor = Annotated[Actor, Depends(require_roles(*SUPERVISORS))]


class DuplicateMembershipReport(BaseModel):
    area_code: str
    total: int
    items: list[DuplicateMembership]


@router.get("/duplicate-memberships", response_model=DuplicateMembershipReport)
async def duplicate_memberships(
    actor: Supervisor,
    db: DatabaseDep,
    programme: Annotated[Programme | None, Query()] = None,
) -> DuplicateMembershipReport:
    """People in two active households of the same programme, inside my area (a person listed
    when any of their cases is in my area), with both (all) case ids."""
    items = await db.read(duplicates, actor.area_code)
    if programme is not None:
        items = [i for i in items if i.programme == programme.value]
    return DuplicateMembershipReport(area_code=actor.area_code, total=len(items), items=items)
