"""Test data: valid households with real GB 11643 ID numbers."""

from datetime import date
from typing import Any

from jiuzhu.db.models import CaseRecord
from rules.id_number import make_id_number

_seq: dict[tuple[str, date], int] = {}


def id_number(birth: date = date(1970, 5, 17), area6: str = "419901") -> str:
    """A fresh ID number: one counter per (area, birth date), so a test session of many cases
    never hands out one person twice (one person is in at most one open household)."""
    seq = _seq[(area6, birth)] = _seq.get((area6, birth), 100) + 1
    return make_id_number(area6, birth, f"{seq % 1000:03d}")


def application_body(
    area_code: str = "419901001001", programme: str = "dibao", members: int = 2
) -> dict[str, Any]:
    household = [{"name": "张建明", "id_number": id_number(), "relation": "applicant"}]
    if members >= 2:
        household.append(
            {"name": "李秀兰", "id_number": id_number(date(1972, 3, 2)), "relation": "spouse"}
        )
    for i in range(2, members):
        household.append(
            {"name": f"张小{i}", "id_number": id_number(date(2012, 1, i)), "relation": "child"}
        )
    return {"programme": programme, "area_code": area_code, "household": household}


def case_record(case_id: str, **fields: Any) -> CaseRecord:
    """A read-model row of a 低保 application in the demo village (``fields`` override)."""
    values: dict[str, Any] = {
        "case_id": case_id,
        "workflow_id": f"application-{case_id}",
        "case_kind": "application",
        "programme": "dibao",
        "status": "submitted",
        "area_code": "419901001001",
        "county_code": "419901",
        "township_code": "419901001",
        "household_id": f"H-{case_id}",
        "applicant_name": "张建明",
        "applicant_id_number": id_number(),
        "household_size": 1,
        **fields,
    }
    return CaseRecord(**values)
