"""Whose personal data an officer may load (PIPL Art. 6: no more than the purpose needs; DOMAIN
§2: an officer acts only inside their area). A person is inside an officer's area when their ID
number was issued there (the first six digits, the registering county) or when a case of that
area covers them: an application (its applicant) or an entitlement (any covered member).
Used by the admin loads of deaths and verification data, which refuse and count the others."""

from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlmodel import Session

from jiuzhu.contract import Actor
from jiuzhu.db.sealing import blind_indexes

# By blind index: the ID numbers themselves are sealed (jiuzhu/db/sealing.py).
_COVERED_BY_CASES = text(
    """
SELECT m.id_number_index FROM entitlement_member m
JOIN entitlement_account e ON e.case_id = m.case_id
WHERE m.id_number_index IN :ids AND e.area_code LIKE :area
UNION
SELECT c.applicant_id_number_index FROM case_record c
WHERE c.applicant_id_number_index IN :ids AND c.area_code LIKE :area
"""
).bindparams(bindparam("ids", expanding=True))

CHUNK = 900  # bound parameters per statement (SQLite's limit is 999 on older builds)


def people_in_area(session: Session, actor: Actor, id_numbers: Iterable[str]) -> set[str]:
    """The subset of ``id_numbers`` inside ``actor``'s area (registered there or covered by a
    case of the area)."""
    wanted = set(id_numbers)
    inside = {n for n in wanted if actor.covers(n[:6])}
    rest = sorted(wanted - inside)
    by_index = dict(zip(blind_indexes(rest), rest, strict=True))
    keys = sorted(by_index)
    for i in range(0, len(keys), CHUNK):
        rows = session.execute(
            _COVERED_BY_CASES, {"ids": keys[i : i + CHUNK], "area": f"{actor.area_code}%"}
        ).all()
        inside.update(by_index[r[0]] for r in rows)
    return inside
