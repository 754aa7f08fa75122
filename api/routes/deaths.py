"""The death register (seed 002: monthly death comparison against police and health data): an
admin loads deaths; each county's monthly payroll runs the death check against it, which
suspends the deceased's share at once and opens the household review."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.deps import SessionDep, require_roles
from api.scoping import people_in_area
from api.validators import IdNumber, PaperDate, PersonName, ShortText
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_payments import DeathRecord
from jiuzhu.db.sealing import blind_indexes
from rules.id_number import birth_date_from_id, validate_id_number

router = APIRouter(prefix="/deaths", tags=["deaths"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]


class DeathIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: IdNumber
    name: PersonName
    date_of_death: PaperDate
    source: ShortText = Field(default="公安户籍注销", min_length=1, max_length=100)

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return validate_id_number(v)

    @model_validator(mode="after")
    def _dates(self) -> "DeathIn":
        if self.date_of_death > beijing_today():
            raise ValueError("date_of_death is in the future")
        if self.date_of_death < birth_date_from_id(self.id_number):
            raise ValueError("date_of_death is before the birth date in id_number")
        return self


class DeathsLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[DeathIn] = Field(min_length=1, max_length=10_000)


class DeathsLoaded(BaseModel):
    loaded: int
    already_known: int
    # Records of people outside the admin's area (neither registered there nor covered by a case
    # of the area): not loaded (PIPL Art. 6; DOMAIN §2).
    refused_out_of_area: int = 0
    refused: list[str] = Field(default_factory=list)  # their fields, e.g. "records.3.id_number"


@router.post("", status_code=201, response_model=DeathsLoaded)
def load_deaths(body: DeathsLoad, actor: Admin, session: SessionDep) -> DeathsLoaded:
    """Load deaths of people inside the admin's area (registered there or covered by one of its
    cases; others refused and counted — a death loaded by another county once cut a household's
    payment). Idempotent per ID number: a death already on the register is kept."""
    inside = people_in_area(session, actor, (r.id_number for r in body.records))
    refused = [
        f"records.{i}.id_number" for i, r in enumerate(body.records) if r.id_number not in inside
    ]
    records = [r for r in body.records if r.id_number in inside]
    ids = [r.id_number for r in records]
    known = set(
        session.exec(
            select(DeathRecord.id_number).where(
                col(DeathRecord.id_number_index).in_(blind_indexes(ids))
            )
        ).all()
    )
    fresh = {r.id_number: r for r in records if r.id_number not in known}
    for r in fresh.values():
        session.add(
            DeathRecord(
                id_number=r.id_number,
                name=r.name,
                date_of_death=r.date_of_death,
                source=r.source,
                loaded_by=actor.officer_id,
            )
        )
    try:
        session.commit()
    except IntegrityError:  # a concurrent load of the same person: load again, idempotently
        session.rollback()
        return load_deaths(body, actor, session)
    return DeathsLoaded(
        loaded=len(fresh),
        already_known=len(records) - len(fresh),
        refused_out_of_area=len(refused),
        refused=refused[:100],
    )
