"""Household ids are opaque (issue 12 item 1; PIPL Art. 51): the keyed HMAC of the applicant's ID
number and county, so the ``HouseholdId`` search attribute and ``entitlement-<household>-…``
workflow ids cannot be recomputed from an ID number without the blind-index key. A household
that already carries an id of the old, unkeyed form keeps it."""

import httpx
from sqlalchemy import Engine, update
from sqlmodel import Session, col
from temporalio.client import Client

from jiuzhu.contract import SA_HOUSEHOLD, legacy_household_id
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.sealing import DataKeys, using
from jiuzhu.household_ids import household_id_for, resolve_household_id
from tests.application.helpers import create
from tests.conftest import auth
from tests.factories import application_body, id_number
from tests.temporary.helpers import case_body
from workflows.applications.contract import application_workflow_id

AREA = "419901001001"


def test_the_id_needs_the_key_and_is_stable() -> None:
    person = id_number()
    ours = household_id_for(person, AREA)
    assert ours == household_id_for(person.lower(), AREA[:6] + "999999")  # same person, county
    assert ours.startswith("H") and len(ours) == 16 and ours[1:] == ours[1:].upper()
    assert ours != legacy_household_id(person, AREA)
    with using(DataKeys.generate("other")):
        assert household_id_for(person, AREA) != ours  # another key: another id
    assert household_id_for(person, "410882001001") != ours  # another county: another household


async def test_new_households_get_keyed_ids_and_old_ones_keep_theirs(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = application_body(AREA)
    applicant = body["household"][0]["id_number"]
    app_id, _ = await create(api, body)
    r = await api.get(f"/applications/{app_id}", headers=auth("county"))
    keyed = household_id_for(applicant, AREA)
    assert r.json()["household_id"] == keyed != legacy_household_id(applicant, AREA)
    described = await client.get_workflow_handle(application_workflow_id(app_id)).describe()
    assert described.typed_search_attributes.get(SA_HOUSEHOLD) == keyed
    assert applicant not in str(described.raw_description)

    # A household from before the keyed ids (its case carries the old id) keeps that id: a
    # temporary case for the same applicant joins it.
    old = legacy_household_id(applicant, AREA)
    with Session(engine) as s:
        s.exec(update(CaseRecord).where(col(CaseRecord.case_id) == app_id).values(household_id=old))
        s.commit()
        assert resolve_household_id(s, applicant, AREA) == old
    r = await api.post(
        "/temporary-cases", json=case_body(applicant_id=applicant), headers=auth("township")
    )
    assert r.status_code == 201, r.text
    assert r.json()["household_id"] == old
