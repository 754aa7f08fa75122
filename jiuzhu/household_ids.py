"""Household ids: opaque, so workflow ids (``entitlement-<household>-<programme>``), the
``HouseholdId`` search attribute and the read model carry no personal data (PIPL Art. 51;
issue 12 item 1: "ids are opaque").

A household is keyed by its applicant's ID number and the county it is registered in — one
household, one id, whichever officer applies for it. The id is the keyed HMAC of those two
(the blind-index key of ``jiuzhu.db.sealing``, ``JIUZHU_DATA_INDEX_KEY``): without the key
nobody can recompute it from an ID number, with the key every process computes the same id.
Households that already have an id of the old, unkeyed form keep it (``resolve_household_id``):
a running entitlement's workflow id cannot be renamed, and a second id would split the
household's assistance chain and its one-active-case rule. For the same reason the blind-index
key never rotates (``DataKeys.with_new_key`` rotates the AES keys only)."""

from sqlmodel import Session, select

from jiuzhu.contract import legacy_household_id
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.sealing import blind_index

HOUSEHOLD_ID_CHARS = 15  # hex after the "H": 60 bits, no clash in a province's households


def household_id_for(applicant_id_number: str, area_code: str) -> str:
    """``H`` + 15 upper-case hex of the keyed HMAC of the applicant's ID number and county
    (the first six digits of ``area_code``). Needs the process's data keys (raises
    ``DataKeyError`` in production without them)."""
    mac = blind_index(f"household\x1f{applicant_id_number.strip().upper()}\x1f{area_code[:6]}")
    return "H" + mac[:HOUSEHOLD_ID_CHARS].upper()


def resolve_household_id(session: Session, applicant_id_number: str, area_code: str) -> str:
    """The household's id: its old, unkeyed id if a case already carries it (the household
    keeps the id it has), otherwise ``household_id_for``."""
    legacy = legacy_household_id(applicant_id_number, area_code)
    known = session.exec(
        select(CaseRecord.case_id).where(CaseRecord.household_id == legacy).limit(1)
    ).first()
    return legacy if known is not None else household_id_for(applicant_id_number, area_code)
