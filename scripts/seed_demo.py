"""A demo county that shows everything (development only): on a fresh ``var/``, ``make run``
drives the real workflows through the real API — in process, before the API starts listening —
with paper dates, so a newcomer's first ``GET /cases`` shows 演示县 (419901) in every stage:

- 王建国 accepted today; 李国强 accepted on paper 10 days ago and never visited (overdue, with an
  escalation to the county);
- 张秀英 in publicity (posted on paper 2 days ago); 陈志明 awaiting the county's decision
  (publicity posted 12 days ago has ended);
- 赵丽华 approved on paper 70 days ago, her entitlement active and her first month paid: the
  payroll backfilled, funded and reconciled, with its bank file and reconciliation report
  (a month before the one a case approved on paper 30 days ago would start in);
- 孙红梅 refused, the refusal notice delivered;
- 周桂兰, 72, a 特困 application accepted;
- 吴大勇, a fire two days ago: an emergency prepayment from the township reserve fund, awaiting
  its justification.

Nothing is written as rows: every case is a workflow driven by the steps an officer takes. Run
once (``var/demo-seeded.json`` records the cases); ``python -m scripts.seed_demo`` runs it by hand
against the settings' stack."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx

from api.main import create_app
from jiuzhu.clock import beijing_today
from jiuzhu.db.engine import engine_for
from jiuzhu.logging import get_logger
from jiuzhu.settings import Settings, get_settings
from jiuzhu.temporal import connect
from rules.id_number import birth_date_from_id, make_id_number

log = get_logger("jiuzhu.demo")
AREA = "419901001001"  # 演示县 东城街道 一村
TOWNSHIP = "419901001"


class DemoError(RuntimeError):
    """A demo step was refused: the seed stops and says which."""


class Demo:
    def __init__(self, api: httpx.AsyncClient, tokens: dict[str, str], today: date) -> None:
        self.api = api
        self.tokens = tokens
        self.today = today
        self.seq = 500

    def ago(self, days: int) -> str:
        return (self.today - timedelta(days=days)).isoformat()

    def person(self, birth: date) -> str:
        self.seq += 1
        return make_id_number("419901", birth, f"{self.seq % 1000:03d}")

    async def call(self, method: str, path: str, who: str, body: Any = None) -> Any:
        r = await self.api.request(
            method, path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )
        if r.status_code >= 400:
            raise DemoError(f"{method} {path} as {who}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    async def until(self, what: str, check: Callable[[], Awaitable[bool]]) -> None:
        for _ in range(600):
            if await check():
                return
            await asyncio.sleep(0.1)
        raise DemoError(f"timed out waiting for {what}")

    async def status_is(self, app_id: str, *statuses: str) -> None:
        async def check() -> bool:
            s = await self.call("GET", f"/applications/{app_id}", "demo-county")
            return bool(s["status"] in statuses)

        await self.until(f"{app_id} {statuses}", check)

    # --- applications ---------------------------------------------------------------------
    async def apply(
        self, name: str, birth: date, *, spouse: tuple[str, date] | None = None, **extra: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        members = [{"name": name, "id_number": self.person(birth), "relation": "applicant"}]
        if spouse:
            members.append(
                {"name": spouse[0], "id_number": self.person(spouse[1]), "relation": "spouse"}
            )
        body = {"programme": "dibao", "area_code": AREA, "household": members, **extra}
        created = await self.call("POST", "/applications", "demo-township", body)
        return str(created["application_id"]), members

    async def investigate(
        self, app_id: str, members: list[dict[str, Any]], on: str, wage: str = "600.00"
    ) -> None:
        household = [
            {
                **m,
                "birth_date": birth_date_from_id(m["id_number"]).isoformat(),
                "hukou": "rural",
                "incomes": [{"kind": "wage", "monthly_amount": wage}] if i == 0 else [],
            }
            for i, m in enumerate(members)
        ]
        await self.call(
            "POST",
            f"/applications/{app_id}/investigation",
            "demo-township",
            {
                "visited_on": on,
                "investigators": ["王经办", "李协理"],
                "signed_by_household": True,
                "findings_zh": "入户查看住房、收入情况，与申报一致",
                "household": {"members": household},
            },
        )
        await self.status_is(app_id, "awaiting_opinion")

    async def to_opinion(
        self, name: str, birth: date, spouse: tuple[str, date], start: int, wage: str = "600.00"
    ) -> tuple[str, list[dict[str, Any]]]:
        app_id, members = await self.apply(name, birth, spouse=spouse, applied_on=self.ago(start))
        await self.call(
            "POST",
            f"/applications/{app_id}/accept",
            "demo-township",
            {"accepted_on": self.ago(start - 1)},
        )
        await self.investigate(app_id, members, self.ago(start - 2), wage)
        return app_id, members

    async def seed(self) -> dict[str, str]:
        cases: dict[str, str] = {}

        app_id, _ = await self.apply(
            "王建国", date(1968, 4, 12), spouse=("马淑芬", date(1970, 2, 3))
        )
        await self.call("POST", f"/applications/{app_id}/accept", "demo-township", {})
        cases["accepted"] = app_id

        app_id, _ = await self.apply(
            "李国强",
            date(1965, 8, 20),
            spouse=("何玉兰", date(1966, 1, 9)),
            applied_on=self.ago(11),
        )
        await self.call(
            "POST", f"/applications/{app_id}/accept", "demo-township", {"accepted_on": self.ago(10)}
        )
        cases["overdue"] = app_id

        app_id, _ = await self.to_opinion(
            "张秀英", date(1971, 3, 5), ("黄志强", date(1969, 7, 7)), 8
        )
        await self.call(
            "POST",
            f"/applications/{app_id}/initial-opinion",
            "demo-township",
            {"recommendation": "approve", "opinion_on": self.ago(2), "posted_on": self.ago(2)},
        )
        cases["publicity"] = app_id

        app_id, _ = await self.to_opinion(
            "陈志明", date(1962, 11, 30), ("杨桂芝", date(1963, 5, 1)), 20
        )
        await self.call(
            "POST",
            f"/applications/{app_id}/initial-opinion",
            "demo-township",
            {"recommendation": "approve", "opinion_on": self.ago(12), "posted_on": self.ago(12)},
        )
        cases["awaiting_decision"] = app_id

        cases.update(await self.approved_and_paid())

        app_id, _ = await self.to_opinion(
            "孙红梅", date(1975, 9, 9), ("周建华", date(1974, 6, 6)), 30, wage="1500.00"
        )
        await self.call(
            "POST",
            f"/applications/{app_id}/initial-opinion",
            "demo-township",
            {"recommendation": "refuse", "opinion_on": self.ago(25)},
        )
        refused = await self.call(
            "POST",
            f"/applications/{app_id}/decision",
            "demo-county",
            {"outcome": "refuse", "decided_on": self.ago(22)},
        )
        for notice in refused["notices"]:  # the refusal notice, then the 边缘 offer
            await self.call(
                "POST",
                f"/applications/{app_id}/deliver-notice",
                "demo-township",
                {
                    "notice_id": notice["notice_id"],
                    "delivered_on": self.ago(20),
                    "recipient_name": "孙红梅",
                },
            )
        cases["refused"] = app_id

        tekun = {
            "programme": "tekun",
            "area_code": AREA,
            "household": [
                {
                    "name": "周桂兰",
                    "id_number": self.person(date(1954, 5, 16)),
                    "relation": "applicant",
                }
            ],
        }
        created = await self.call("POST", "/applications", "demo-township", tekun)
        await self.call(
            "POST", f"/applications/{created['application_id']}/accept", "demo-township", {}
        )
        cases["tekun"] = str(created["application_id"])

        cases["emergency"] = await self.emergency()
        return cases

    async def approved_and_paid(self) -> dict[str, str]:
        app_id, members = await self.to_opinion(
            "赵丽华", date(1972, 12, 1), ("钱永福", date(1970, 10, 10)), 85
        )
        await self.call(
            "POST",
            f"/applications/{app_id}/initial-opinion",
            "demo-township",
            {"recommendation": "approve", "opinion_on": self.ago(80), "posted_on": self.ago(80)},
        )
        decision = await self.call(
            "POST",
            f"/applications/{app_id}/decision",
            "demo-county",
            {
                "outcome": "approve",
                "decided_on": self.ago(70),
                "card_account": {
                    "holder_name": members[0]["name"],
                    "holder_id_number": members[0]["id_number"],
                    "account_number": "6217000000000004321",
                },
            },
        )
        start = date.fromisoformat(str(decision["start_month"])[:10])
        period = f"{start.year}-{start.month:02d}"
        await self.call("POST", "/payroll/419901/backfill", "demo-admin", {"period": period})
        month: dict[str, Any] = {}

        async def awaiting() -> bool:
            r = await self.api.get(
                f"/payroll/419901/{period}",
                headers={"Authorization": f"Bearer {self.tokens['demo-finance']}"},
            )
            if r.status_code != 200 or r.json().get("run") is None:
                return False
            month.update(r.json()["run"])
            return bool(month["status"] == "awaiting_funding")

        await self.until(f"payroll {period} awaiting funding", awaiting)
        await self.call(
            "POST",
            f"/payroll/419901/{period}/funding",
            "demo-finance",
            {"amount": str(month["compiled_total"]), "reference": f"演示拨付{period}"},
        )

        async def reconciled() -> bool:
            run = (await self.call("GET", f"/payroll/419901/{period}", "demo-finance"))["run"]
            return bool(run["status"] == "reconciled")

        await self.until(f"payroll {period} reconciled", reconciled)
        return {"approved": app_id, "payroll": f"payroll-419901-{period}"}

    async def emergency(self) -> str:
        await self.call(
            "POST",
            f"/reserve-funds/{TOWNSHIP}/replenishments",
            "demo-county",
            {"amount": "5000.00", "note_zh": "第四季度临时救助备用金"},
        )
        body = {
            "procedure": "emergency",
            "area_code": AREA,
            "household": [
                {
                    "name": "吴大勇",
                    "id_number": self.person(date(1980, 2, 14)),
                    "relation": "applicant",
                }
            ],
            "event": {
                "event_type": "fire",
                "event_date": self.ago(2),
                "description_zh": "夜间住房失火，家中财物损毁",
            },
            "card_account": {"account_number": "6217000000000005678", "bank_code": "CCB"},
        }
        created = await self.call("POST", "/temporary-cases", "demo-township", body)
        case_id = str(created["case_id"])

        async def registered() -> bool:
            s = await self.call("GET", f"/temporary-cases/{case_id}", "demo-county")
            return s.get("policy_version_id") is not None

        await self.until("temporary case registered", registered)
        await self.call(
            "POST",
            f"/temporary-cases/{case_id}/prepayment",
            "demo-township",
            {"amount": "800.00", "reason_zh": "火灾后急需生活费，先行救助"},
        )
        return case_id


async def drive_demo(settings: Settings, tokens: dict[str, str]) -> dict[str, str]:
    """Drive the demo cases through the API in this process (the workers must be running).
    Raises ``DemoError`` naming a refused step."""
    engine = engine_for(settings)
    client = await connect(settings)
    app = create_app(settings, engine, client)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as api:
            cases = await Demo(api, tokens, beijing_today()).seed()
    finally:
        engine.dispose()
    return cases


def seed_demo_once(settings: Settings, tokens: dict[str, str]) -> dict[str, str] | None:
    """Seed the demo county unless ``var/demo-seeded.json`` says it was (development only).
    A refused step is logged and recorded in the marker: a partial seed is not repeated."""
    marker = settings.demo_tokens_file.with_name("demo-seeded.json")
    if marker.exists():
        return None
    try:
        cases: dict[str, str] = asyncio.run(drive_demo(settings, tokens))
    except DemoError as exc:
        log.error("demo county not seeded", error=str(exc))
        marker.write_text(json.dumps({"error": str(exc)}, ensure_ascii=False), encoding="utf-8")
        return None
    marker.write_text(json.dumps(cases, ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("demo county seeded", cases=len(cases))
    return cases


def main() -> None:
    settings = get_settings()
    tokens = json.loads(settings.demo_tokens_file.read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(drive_demo(settings, tokens)), ensure_ascii=False))


if __name__ == "__main__":
    main()
