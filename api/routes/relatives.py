"""Admin: the relatives registry (近亲属备案) — close relatives of case workers and village
cadres. An application whose applicant or member is registered is flagged and needs a county
home visit before any decision (DOMAIN §2, §7)."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import func
from sqlmodel import col, delete, select

from api.deps import SessionDep, require_roles
from api.schemas.applications import RelativeOut, RelativesLoad, RelativesPage
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_application import RelativeRegistration

router = APIRouter(prefix="/admin/relatives", tags=["admin"])

Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[Actor, Depends(require_roles(Role.ADMIN, Role.AUDITOR))]


@router.put("", response_model=RelativesPage)
def load_relatives(body: RelativesLoad, actor: Admin, session: SessionDep) -> RelativesPage:
    """Replace the registry for the admin's area (all or nothing); every entry must lie inside
    it (403 naming the entry otherwise)."""
    for index, entry in enumerate(body.entries):
        if not actor.covers(entry.area_code):
            raise HTTPException(
                403, f"entries.{index}.area_code {entry.area_code} is outside your area"
            )
    session.exec(
        delete(RelativeRegistration).where(
            col(RelativeRegistration.area_code).startswith(actor.area_code)
        )
    )
    for entry in body.entries:
        session.add(RelativeRegistration(**entry.model_dump(), loaded_by=actor.officer_id))
    session.commit()
    return list_relatives(actor, session)


@router.get("", response_model=RelativesPage)
def list_relatives(actor: Reader, session: SessionDep) -> RelativesPage:
    query = select(RelativeRegistration).where(
        col(RelativeRegistration.area_code).startswith(actor.area_code)
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(RelativeRegistration.id))).all()
    return RelativesPage(
        items=[RelativeOut.model_validate(r, from_attributes=True) for r in rows], total=total
    )
