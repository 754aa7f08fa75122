"""One person, at most one active household per programme (issue 11 item 4).

The rule: an application is made by one member for the whole household (低保办法 Art. 6), and
each household has one assistance chain without duplicates (DOMAIN §7, seed 001) — so nobody may
be a member of two open applications or active entitlements of the same programme at once (e.g.
the applicant of one 低保 household and the spouse in another). A household split (分户) is an
explicit step: the member is first moved out of the old case, then the new one may claim them.

The index (``household_membership``, one row per programme and ID number) is written here and
nowhere else:

- ``claim`` when an application is created (API) and when an investigation adds members
  (activity): all members or none; the UNIQUE constraint decides races;
- ``release`` when an application ends without approval or drops a member;
- ``transfer`` on approval (the entitlement takes the application's claims);
- ``sync_entitlement`` whenever an entitlement publishes its account: members whose share is
  active or suspended stay claimed while the entitlement is active; cut, moved-out or deceased
  members, and every member of an ended entitlement, are released.

Temporary assistance (临时救助) is per event, not per household: it claims nobody.
``duplicates`` lists people already in two households (data from before this rule)."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jiuzhu.db.models import utcnow
from jiuzhu.db.models_membership import HouseholdMembership
from jiuzhu.db.sealing import SealedString, blind_indexes
from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme

APPLICATION = "application"
ENTITLEMENT = "entitlement"

HOUSEHOLD_PROGRAMMES = frozenset(
    {Programme.DIBAO, Programme.TEKUN, Programme.DIBAO_EDGE, Programme.RIGID_EXPENSE}
)
"""Programmes whose cases are households (临时救助 is per event, DOMAIN §6)."""

ACTIVE_ACCOUNT_STATUSES = ("active", "withdrawal", "suspended", "terminating")
"""Entitlement statuses in which the household is still covered (``ended`` is not)."""
HELD_SHARE_STATUSES = ("active", "suspended")
"""Share statuses that keep a member in the household (cut, moved out, deceased do not)."""
OPEN_APPLICATION_STATUSES = (
    "submitted",
    "documents_requested",
    "accepted",
    "verification",
    "awaiting_opinion",
    "publicity",
    "objection",
    "awaiting_decision",
)
"""Application statuses before any decision (``workflows.applications.contract``)."""


def applies_to(programme: str) -> bool:
    return programme in {p.value for p in HOUSEHOLD_PROGRAMMES}


class MemberClaim(BaseModel):
    """One member to claim; ``field`` names the input that carries the ID number
    (``household[1].id_number``)."""

    id_number: str
    name: str = ""
    field: str


class Clash(BaseModel):
    """A member already held by another case of the same programme."""

    programme: str
    id_number: str
    field: str
    other_case_id: str
    other_case_kind: str
    other_household_id: str

    def message_zh(self) -> str:
        short = PROGRAMME_SHORT_NAMES_ZH.get(Programme(self.programme), self.programme)
        kind = "待遇" if self.other_case_kind == ENTITLEMENT else "申请"
        return (
            f"身份证号{mask(self.id_number)}（{self.field}）已是{kind}案件{self.other_case_id}的"
            f"家庭成员（{short}），同一人只能属于一个{short}家庭；如系分户，请先在原案件办理"
            "成员迁出（或待原申请办结）后再申请"
        )


def mask(id_number: str) -> str:
    """An ID number with its birth date and sequence masked (shown in messages)."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def _held(session: Session, programme: str, ids: Iterable[str]) -> dict[str, HouseholdMembership]:
    wanted = blind_indexes(ids)  # ID numbers are sealed: looked up by their blind index
    if not wanted:
        return {}
    rows = session.exec(
        select(HouseholdMembership).where(
            HouseholdMembership.programme == programme,
            col(HouseholdMembership.id_number_index).in_(wanted),
        )
    ).all()
    return {r.id_number: r for r in rows}


def _first_clash(
    held: dict[str, HouseholdMembership],
    programme: str,
    case_id: str,
    members: Sequence[MemberClaim],
) -> Clash | None:
    for m in members:
        row = held.get(m.id_number)
        if row is not None and row.case_id != case_id:
            return Clash(
                programme=programme,
                id_number=m.id_number,
                field=m.field,
                other_case_id=row.case_id,
                other_case_kind=row.case_kind,
                other_household_id=row.household_id,
            )
    return None


def claim(
    session: Session,
    programme: str,
    case_id: str,
    household_id: str,
    members: Sequence[MemberClaim],
    case_kind: str = APPLICATION,
    at: datetime | None = None,
) -> Clash | None:
    """Claim every member for ``case_id`` in one transaction (committed here), or none: the
    first member held by another case is returned and nothing is written. Members the case
    already holds are kept (a retry claims nothing twice). Race-safe: of two concurrent claims
    of one person the UNIQUE constraint lets one commit; the other finds the winner."""
    if not applies_to(programme) or not members:
        return None
    for _ in range(3):
        held = _held(session, programme, (m.id_number for m in members))
        clash = _first_clash(held, programme, case_id, members)
        if clash is not None:
            session.rollback()
            return clash
        for m in members:
            if m.id_number not in held:
                session.add(
                    HouseholdMembership(
                        programme=programme,
                        id_number=m.id_number,
                        case_id=case_id,
                        household_id=household_id,
                        case_kind=case_kind,
                        member_name=m.name,
                        claimed_at=at or utcnow(),
                    )
                )
        try:
            session.commit()
            return None
        except IntegrityError:
            session.rollback()  # a concurrent claim won one of them: look again
    held = _held(session, programme, (m.id_number for m in members))
    return _first_clash(held, programme, case_id, members)


def release(session: Session, case_id: str, id_numbers: Iterable[str] | None = None) -> int:
    """Release the claims ``case_id`` holds (only those of ``id_numbers`` when given); another
    case's claims are never touched. Idempotent. The caller commits."""
    stmt = delete(HouseholdMembership).where(col(HouseholdMembership.case_id) == case_id)
    if id_numbers is not None:
        ids = list(id_numbers)
        if not ids:
            return 0
        stmt = stmt.where(col(HouseholdMembership.id_number_index).in_(blind_indexes(ids)))
    result = session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def transfer(session: Session, from_case_id: str, to_case_id: str, household_id: str) -> int:
    """Hand an approved application's claims to its entitlement (``case_kind`` entitlement).
    Idempotent. The caller commits."""
    rows = session.exec(
        select(HouseholdMembership).where(HouseholdMembership.case_id == from_case_id)
    ).all()
    for row in rows:
        row.case_id = to_case_id
        row.case_kind = ENTITLEMENT
        row.household_id = household_id
        session.add(row)
    return len(rows)


class HeldMember(BaseModel):
    id_number: str
    name: str = ""
    share_status: str


def sync_entitlement(
    session: Session,
    *,
    programme: str,
    case_id: str,
    application_id: str | None,
    household_id: str,
    status: str,
    members: Sequence[HeldMember],
) -> list[str]:
    """Make the index follow an entitlement as published: while it is active its members with
    an active or suspended share are held by it (taken over from its application, or claimed
    if free); everyone else it or its application holds is released. A member held by another
    case is left there (a duplicate from before this rule: ``duplicates`` lists it). Runs inside
    the caller's transaction (a claim racing it fails the commit; the activity's retry then
    finds it); returns the ID numbers it could not claim."""
    if not applies_to(programme):
        return []
    covered = status in ACTIVE_ACCOUNT_STATUSES
    keep = {m.id_number: m for m in members if covered and m.share_status in HELD_SHARE_STATUSES}
    owners = [case_id] + ([application_id] if application_id else [])
    mine = session.exec(
        select(HouseholdMembership).where(
            HouseholdMembership.programme == programme,
            col(HouseholdMembership.case_id).in_(owners),
        )
    ).all()
    for row in mine:
        if row.id_number not in keep:
            session.delete(row)
        elif row.case_id != case_id or row.case_kind != ENTITLEMENT:
            row.case_id, row.case_kind, row.household_id = case_id, ENTITLEMENT, household_id
            session.add(row)
    have = {r.id_number for r in mine}
    others = _held(session, programme, (i for i in keep if i not in have))
    for id_number, row in list(others.items()):
        if row.case_kind == APPLICATION and row.household_id == household_id:
            # Its own application (same household), e.g. one approved without handing over.
            row.case_id, row.case_kind = case_id, ENTITLEMENT
            session.add(row)
            del others[id_number]
            have.add(id_number)
    missed = sorted(others)
    for id_number, m in keep.items():
        if id_number in have or id_number in others:
            continue
        session.add(
            HouseholdMembership(
                programme=programme,
                id_number=id_number,
                case_id=case_id,
                household_id=household_id,
                case_kind=ENTITLEMENT,
                member_name=m.name,
            )
        )
    return missed


class DuplicateMembership(BaseModel):
    """A person in two (or more) active households of one programme, with every case."""

    programme: str
    id_number: str
    names: list[str]
    case_ids: list[str]
    area_codes: list[str]


# Every (programme, person, case) that is active now: active entitlements' held members, open
# applications' applicants, and the index itself (members claimed by new applications). A
# person is their ID number's blind index (the numbers are sealed: each row's ciphertext differs).
_ACTIVE_MEMBERSHIPS = f"""
SELECT a.programme AS programme, m.id_number_index AS person, m.id_number AS id_number,
       m.name AS name, a.case_id AS case_id, a.area_code AS area_code
  FROM entitlement_member m JOIN entitlement_account a ON a.case_id = m.case_id
 WHERE m.share_status IN ({", ".join(f"'{s}'" for s in HELD_SHARE_STATUSES)})
   AND a.status IN ({", ".join(f"'{s}'" for s in ACTIVE_ACCOUNT_STATUSES)})
UNION
SELECT c.programme, c.applicant_id_number_index, c.applicant_id_number, c.applicant_name,
       c.case_id, c.area_code
  FROM case_record c
 WHERE c.case_kind = 'application'
   AND c.status IN ({", ".join(f"'{s}'" for s in OPEN_APPLICATION_STATUSES)})
UNION
SELECT h.programme, h.id_number_index, h.id_number, h.member_name, h.case_id,
       COALESCE(c.area_code, a.area_code, '')
  FROM household_membership h
  LEFT JOIN case_record c ON c.case_id = h.case_id
  LEFT JOIN entitlement_account a ON a.case_id = h.case_id
"""


# Only people held by two or more cases (grouped in SQL: the sweep reads the duplicates only).
_DUPLICATED = text(
    f"""
WITH u AS ({_ACTIVE_MEMBERSHIPS}),
     d AS (SELECT programme, person FROM u WHERE person IS NOT NULL
            GROUP BY programme, person HAVING COUNT(DISTINCT case_id) > 1)
SELECT u.programme, u.person, u.id_number, u.name, u.case_id, u.area_code
  FROM u JOIN d ON u.programme = d.programme AND u.person = d.person
"""
).columns(id_number=SealedString())


def duplicates(session: Session, area_prefix: str = "") -> list[DuplicateMembership]:
    """People in two active households of the same programme (the sweep of data from before
    this rule), optionally only those with a case inside ``area_prefix``."""
    rows = session.execute(_DUPLICATED).all()
    found: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    numbers: dict[tuple[str, str], str] = {}
    for programme, person, id_number, name, case_id, area_code in rows:
        if not applies_to(programme):
            continue
        numbers[(programme, person)] = id_number
        found.setdefault((programme, person), {})[case_id] = (name or "", area_code or "")
    report: list[DuplicateMembership] = []
    for key, cases in sorted(found.items(), key=lambda kv: (kv[0][0], numbers[kv[0]])):
        programme, id_number = key[0], numbers[key]
        if len(cases) < 2:
            continue
        areas = sorted({a for _, a in cases.values()})
        if area_prefix and not any(a.startswith(area_prefix) for a in areas):
            continue
        report.append(
            DuplicateMembership(
                programme=programme,
                id_number=id_number,
                names=sorted({n for n, _ in cases.values() if n}),
                case_ids=sorted(cases),
                area_codes=areas,
            )
        )
    return report
