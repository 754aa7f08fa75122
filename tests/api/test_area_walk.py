"""Every route × every role × a target outside the officer's area: 0 escapes (issue 12 item 4).

An officer acts only inside the area they belong to (DOMAIN §2; 社会救助暂行办法 Art. 59 and
PIPL Art. 6/10: personal information used only as far as the task needs). The walker takes the
routes from ``app.routes`` (so a route added later is walked too), and for each of the six roles
of the demo county (419901) calls it against cases, households, payroll months, campaigns, bank
batches, recoveries, temporary cases, outbox messages and officers created in another county
(``OTHER``), with a body generated from the route's own schema (area fields set to the other
county) where the route takes one.

An *escape* is a 2xx answer that reveals or changes out-of-area data: a 2xx on a route whose
path names an out-of-area target, a 2xx write whose body targets the other county, or any 2xx
answer that carries one of the other county's identifiers (case ids, ID numbers, officer ids).
Public, area-less routes (health, the working-day calendar, published policies, pure
computations, the operators' codec) are walked but cannot escape. The figures are printed."""

import json
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import Engine, text
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from activities.recoveries.activities import person_key
from api.main import create_app
from jiuzhu.contract import Role
from jiuzhu.db.models import OutboxMessage
from jiuzhu.db.models_payments import BankBatch
from jiuzhu.officers import create_officer
from jiuzhu.settings import Settings
from rules.id_number import make_id_number
from tests.api.test_concurrency import _api_routes
from tests.conftest import auth
from tests.entitlements.helpers import approved_case, start_entitlement, wait_for, wait_published
from tests.factories import application_body
from tests.temporary.helpers import case_body
from workflows.entitlements.contract import DeathNotification
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.payments.contract import payroll_workflow_id
from workflows.recoveries.contract import recovery_workflow_id

OTHER = "410882"  # 沁阳市, the registry's other county
OTHER_TOWNSHIP = OTHER + "100"
OTHER_VILLAGE = OTHER_TOWNSHIP + "201"
BORN = date(1960, 1, 1)
ROLES = ["village", "township", "county", "finance", "auditor", "admin"]

# Routes whose data has no area: walked, never an escape.
PUBLIC = [
    ("GET", r"^/health$"),
    ("GET", r"^/metrics$"),
    ("*", r"^/calendar/"),
    ("GET", r"^/policies/"),
    ("POST", r"^/eligibility/assess$"),
    ("POST", r"^/notices/render$"),
    ("*", r"^/codec/"),
]
# Path parameters that name a target (filled with the other county's resource).
TARGETS = {
    "application_id",
    "notice_id",
    "entitlement_id",
    "investigation_id",
    "county_code",
    "period",
    "campaign_id",
    "batch_id",
    "recovery_id",
    "referral_id",
    "household_id",
    "case_id",
    "township",
    "area_code",
    "message_id",
    "officer_id",
    "village_code",
}


def _public(method: str, path: str) -> bool:
    return any((m in ("*", method)) and re.search(p, path) for m, p in PUBLIC)


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _seq(tag: str, i: int) -> str:
    return f"{(int(tag, 16) + i) % 900 + 100:03d}"


# --- the other county's data ---------------------------------------------------------------
async def other_county(
    api: httpx.AsyncClient, client: Client, settings: Settings, engine: Engine
) -> tuple[dict[str, str], set[str]]:
    """Create one of everything in ``OTHER``; return the path values and the markers (strings
    that only the other county's data carries)."""
    tag = uuid.uuid4().hex[:6]
    tokens = {}
    for name, role, area in (
        ("township", Role.TOWNSHIP_OFFICER, OTHER_TOWNSHIP),
        ("county", Role.COUNTY_OFFICER, OTHER),
        ("finance", Role.FINANCE, OTHER),
        ("admin", Role.ADMIN, OTHER),
    ):
        tokens[name] = f"walk-{name}-{tag}"
        create_officer(engine, f"walk-{name}-{tag}", f"外县{name}", role, area, tokens[name])

    body = application_body(area_code=OTHER_VILLAGE)
    for i, m in enumerate(body["household"]):
        m["id_number"] = make_id_number(OTHER, date(1971, 1, 1 + i), _seq(tag, i))
    r = await api.post("/applications", json=body, headers=_headers(tokens["township"]))
    assert r.status_code == 201, r.text
    application_id = r.json()["application_id"]
    app_ids = {m["id_number"] for m in body["household"]}

    temp = case_body(
        area_code=OTHER_VILLAGE, applicant_id=make_id_number(OTHER, date(1980, 2, 2), _seq(tag, 7))
    )
    r = await api.post("/temporary-cases", json=temp, headers=_headers(tokens["township"]))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]

    inp = approved_case(OTHER_VILLAGE, start_month=date(2026, 10, 1), amount="500.00", members=1)
    await start_entitlement(client, settings.task_queue, inp)
    entitlement_id = f"{inp.household_id}-dibao"
    await wait_published(engine, entitlement_id)
    person = inp.household.members[0]
    with Session(engine) as s:
        s.execute(
            text(
                "INSERT INTO payment_instruction (idempotency_key, kind, case_id, household_id, "
                "programme, area_code, county_code, period, amount, payee_name, "
                "payee_id_number, card_account, funding_source, payroll_id, status, attempts) "
                "VALUES (:k, 'payroll', :c, :h, 'dibao', :a, :county, '2026-12', 500.00, "
                "'王大山', :id, :card, 'county', :b, 'paid', 1)"
            ),
            {
                "k": f"payroll:{inp.household_id}:dibao:2026-12",
                "c": entitlement_id,
                "h": inp.household_id,
                "a": OTHER_VILLAGE,
                "county": OTHER,
                "id": inp.card_account.holder_id_number,
                "card": inp.card_account.account_number,
                "b": f"payroll-{OTHER}-2026-12",
            },
        )
        batch_id = f"walk-batch-{tag}"
        s.add(
            BankBatch(
                batch_id=batch_id,
                kind="temporary",
                county_code=OTHER,
                value_date=date(2026, 12, 10),
                file_path="",
                line_count=0,
                total=Decimal("0.00"),
                status="reconciled",
            )
        )
        message = OutboxMessage(
            dedupe_key=f"walk-{tag}",
            kind="reminder",
            recipient_role=Role.COUNTY_OFFICER.value,
            recipient_area=OTHER,
            case_id=application_id,
            workflow_id=f"application-{application_id}",
            message_zh="外县提醒",
            due_at=datetime.now(UTC) + timedelta(days=3),
        )
        s.add(message)
        s.commit()
        message_id = str(message.id)
    handle = client.get_workflow_handle_for(
        EntitlementWorkflow.run, f"entitlement-{entitlement_id}"
    )
    await handle.execute_update(
        EntitlementWorkflow.record_death,
        DeathNotification(
            id_number=person.id_number,
            date_of_death=date(2026, 11, 20),
            source="死亡比对（测试）",
            record_ref=f"death_record:{person.id_number}",
        ),
    )
    recovery_id = recovery_workflow_id(inp.household_id, person_key(person.id_number))

    def listed() -> bool:
        with Session(engine) as s:
            return (
                s.execute(
                    text("SELECT 1 FROM case_record WHERE case_id = :c"), {"c": recovery_id}
                ).first()
                is not None
            )

    await wait_for(listed, seconds=30, what="recovery listed")

    r = await api.post(
        "/campaigns",
        json={
            "name": "外县一次性补贴",
            "county_code": OTHER,
            "programmes": ["dibao"],
            "amount_per_person": "300.00",
            "provincial_share": "0.6",
            "pay_by": (date.today() + timedelta(days=20)).isoformat(),
        },
        headers=_headers(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    campaign_id = r.json()["campaign_id"]

    values = {
        "application_id": application_id,
        "notice_id": "N-walk",
        "entitlement_id": entitlement_id,
        "investigation_id": "I-walk",
        "county_code": OTHER,
        "period": "2026-12",
        "campaign_id": campaign_id,
        "batch_id": batch_id,
        "recovery_id": recovery_id,
        "referral_id": "R-walk",
        "household_id": inp.household_id,
        "case_id": case_id,
        "township": OTHER_TOWNSHIP,
        "area_code": OTHER,
        "message_id": message_id,
        "officer_id": f"walk-county-{tag}",
        "source": "civil_affairs",
        "year": "2026",
        "namespace": "default",
        "village_code": OTHER_VILLAGE,
    }
    markers = {
        application_id,
        entitlement_id,
        inp.household_id,
        recovery_id,
        case_id,
        campaign_id,
        batch_id,
        payroll_workflow_id(OTHER, 2026, 12),
        f"walk-county-{tag}",
        person.id_number,
        inp.card_account.account_number,
        temp["household"][0]["id_number"],
        *app_ids,
    }
    return values, markers


# --- bodies from the route's own schema ----------------------------------------------------
class Bodies:
    """A minimal valid body for a route's request model, built from the OpenAPI schema, area
    and id fields filled with the other county's values."""

    def __init__(self, openapi: dict[str, Any], values: dict[str, str]) -> None:
        self.components = openapi.get("components", {}).get("schemas", {})
        self.values = values
        self.seq = 0

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _id_number(self) -> str:
        self.seq += 1
        return make_id_number(OTHER, BORN, f"{700 + self.seq % 300:03d}")

    def _string(self, name: str, schema: dict[str, Any]) -> Any:
        low = name.lower()
        if "enum" in schema:
            return schema["enum"][0]
        fmt = schema.get("format")
        if low == "birth_date":
            return BORN.isoformat()
        if fmt == "date":
            ahead = low in ("pay_by", "due_on", "until")
            return (date.today() + timedelta(days=20 if ahead else -1)).isoformat()
        if fmt == "date-time":
            return datetime.now(UTC).isoformat()
        if "id_number" in low:
            return self._id_number()
        pattern = str(schema.get("pattern", ""))
        alternatives = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern)
        if alternatives:
            return alternatives.group(1).split("|")[0]
        if low.endswith("household_id"):
            return self.values["household_id"]
        if "phone" in low:
            return "13800000000"
        if low in ("county_code",):
            return OTHER
        if low in ("township", "township_code"):
            return OTHER_TOWNSHIP
        if "area" in low:
            return OTHER_VILLAGE
        if low == "period" or low == "until":
            return "2026-12"
        if low in self.values:
            return self.values[low]
        if low.endswith("case_id"):
            return self.values["application_id"]
        if low.startswith("programme"):
            return "dibao"
        money = (
            "amount",
            "total",
            "share",
            "rate",
            "income",
            "cost",
            "expense",
            "value",
            "support",
        )
        if any(w in low for w in money):
            return "100.00"
        if "account" in low:
            return "6217000000000009876"
        if "bank_code" in low:
            return "CCB"
        if low == "name" or low.endswith("_name") or low == "investigators":
            return "王测试"
        text_ = "外县测试说明"
        return text_ + "文" * max(0, int(schema.get("minLength", 0)) - len(text_))

    def make(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self._resolve(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [
                    o for o in schema[key] if self._resolve(o).get("type") != "null"
                ] or schema[key]
                return self.make(options[0], name)
        kind = schema.get("type")
        if "const" in schema:
            return schema["const"]
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {k: self.make(v, k) for k, v in props.items()}
        if kind == "array":
            n = max(1, int(schema.get("minItems", 1)))
            item = schema.get("items", {"type": "string"})
            if "investigators" in name:
                return ["王测试", "李测试"][: max(n, 2)]
            return [self.make(item, name) for _ in range(n)]
        if kind == "integer":
            return max(1, int(schema.get("minimum", 1)))
        if kind == "number":
            return "100.00" if "amount" in name or "total" in name else 1
        if kind == "boolean":
            return True
        return self._string(name, schema)

    def for_route(self, openapi: dict[str, Any], route: APIRoute, method: str) -> Any:
        op = openapi["paths"].get(route.path_format, {}).get(method.lower(), {})
        body = op.get("requestBody", {}).get("content", {})
        for content in body.values():
            if "schema" in content:
                return self.make(content["schema"])
        return None


# --- the walk ---------------------------------------------------------------------------------
async def test_every_route_every_role_out_of_area_escapes_nothing(
    api: httpx.AsyncClient,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    values, markers = await other_county(api, client, settings, engine)
    app = create_app(settings=settings)
    openapi = app.openapi()
    bodies = Bodies(openapi, values)
    routes = sorted(
        {(m, r.path_format): r for r in _api_routes(app.routes) for m in (r.methods or ())}.items()
    )
    attempts = skipped = 0
    escapes: list[str] = []
    statuses: Counter[int] = Counter()
    unreached: set[str] = set()
    for (method, path), route in routes:
        params = re.findall(r"{(\w+)}", path)
        url = path
        for p in params:
            url = url.replace("{" + p + "}", values.get(p, "x"))
        targets_path = any(p in TARGETS for p in params)
        body = bodies.for_route(openapi, route, method)
        body_text = json.dumps(body, ensure_ascii=False) if body is not None else ""
        targets_body = OTHER in body_text or any(m in body_text for m in markers)
        query = ""
        if method == "GET" and not params:
            query = f"?area_code={OTHER}&county_code={OTHER}"
        for role in ROLES:
            if method != "GET" and path.startswith("/calendar/"):
                skipped += 1
                continue  # national data (the calendar): walked by its GETs, never rewritten
            attempts += 1
            r = await api.request(
                method,
                url + query,
                json=body,
                headers={**auth(role), "Idempotency-Key": f"walk-{uuid.uuid4().hex}"},
            )
            statuses[r.status_code] += 1
            if r.status_code == 422:
                unreached.add(f"{method} {path}: {r.text[:300]}")
            if not 200 <= r.status_code < 300 or _public(method, path):
                continue
            answer = r.text
            leaked = sorted(m for m in markers if m in answer)
            why = []
            if targets_path:
                why.append("target in path")
            if method != "GET" and targets_body:
                refused = _refused_all(r)
                if not refused:
                    why.append("out-of-area body accepted")
            if leaked:
                why.append(f"answer carries {leaked[:3]}")
            if why:
                escapes.append(f"{method} {path} as {role}: {r.status_code} ({'; '.join(why)})")
    print(
        f"\narea walk: {len(routes)} routes × {len(ROLES)} roles: {attempts} attempts "
        f"({skipped} writes of national data not sent), "
        f"{len(escapes)} escapes; answers {dict(sorted(statuses.items()))}; "
        f"{len(unreached)} routes refused the generated body (422) for some role"
    )
    for line in escapes:
        print("  ESCAPE", line)
    for line in sorted(unreached):
        print("  422", line)
    assert attempts + skipped == len(routes) * len(ROLES)
    # Control: the other county's own officer reads the same targets, and the walker's markers
    # find its data in the answers (a walk that could not see a leak would prove nothing).
    own = _headers(values["officer_id"])
    for url in (
        f"/applications/{values['application_id']}",
        f"/temporary-cases/{values['case_id']}",
        f"/recoveries/{values['recovery_id']}",
        "/applications",
        "/temporary-cases",
        "/recoveries",
    ):
        r = await api.get(url, headers=own)
        assert r.status_code == 200, (url, r.text)
        assert any(m in r.text for m in markers), url
    assert escapes == [], "\n".join(escapes)


def _refused_all(r: httpx.Response) -> bool:
    """A bulk load that answered 2xx but refused every out-of-area record (nothing written)."""
    try:
        data = r.json()
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    written = [data[k] for k in ("loaded", "created", "written", "warnings_raised") if k in data]
    return bool(data.get("refused_out_of_area")) and not any(written)
