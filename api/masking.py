"""Masking by role, in one place (issue 12 item 5).

Rule — PIPL Art. 28 (ID numbers and financial accounts are sensitive personal information),
Art. 6 (no more than the task needs) and Art. 51(三)/(二) (de-identification, access control);
低保办法 Art. 23–24 and seed 002 (焦民〔2022〕154号: personal privacy protected, ID numbers
masked in publicity): every JSON answer of the API masks ID numbers to the first 6 and last 4
characters (``419901********1012``) — and a member's ``birth_date`` to its year, since the
masked digits are the birth date — and card accounts to their last 4 unless the officer's role
needs them in clear:

- ID numbers: the township officer and the county officer of the case (the township investigates
  and delivers, the county decides — 低保办法 Art. 15–21). An officer reads a case only inside
  their area (``api/deps.ensure_area``), so whoever of these roles got the answer is the case's
  own township or county.
- Card accounts: county finance, which funds the paying bank (seed 002 payment calendar).
- Village assistants, auditors and admins read masked data.

``MaskPersonalData`` applies the rule to every JSON answer after the route has produced it, by
field name (``…id_number``, ``account_number``, a ``card_account`` text) and, in any other text
but identifiers, by the shape of an 18-character ID number — so a route added later is masked
without doing anything. Downloads (the bank file) are masked by their route with the same
helpers (``mask_bank_line``). Each unmasked answer to ``GET`` of an application, entitlement or
temporary case detail is recorded in the access log (``api/access.py``) before it is sent."""

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access import record_read
from jiuzhu.contract import Actor, Role

ID_SHAPE = re.compile(r"(?<![0-9A-Za-z*])\d{17}[\dXx](?![0-9A-Za-z])")
ID_SHAPE_BYTES = re.compile(rb"\d{17}[\dXx]")
ID_ROLES = frozenset({Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER})
ACCOUNT_ROLES = frozenset({Role.FINANCE})
# GET of a person's file: the access log records each answered with ID numbers in clear.
PERSON_FILE = re.compile(r"^/(applications|entitlements|temporary-cases)/([^/]+)$")
FILE_KINDS = {"applications": "application", "entitlements": "entitlement"}


@dataclass(frozen=True)
class Disclosure:
    """What an officer reads in clear."""

    id_numbers: bool
    accounts: bool

    @property
    def everything(self) -> bool:
        return self.id_numbers and self.accounts


def disclosure(actor: Actor | None) -> Disclosure:
    """The role's disclosure (module docstring). No officer (an unauthenticated answer): masked."""
    if actor is None:
        return Disclosure(id_numbers=False, accounts=False)
    return Disclosure(id_numbers=actor.role in ID_ROLES, accounts=actor.role in ACCOUNT_ROLES)


def mask_id_number(value: str) -> str:
    """``419901197005171012`` → ``419901********1012`` (first 6, last 4)."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str) -> str:
    """``6217000000000001234`` → ``***************1234`` (last 4)."""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def _is_identifier(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key.endswith("_ids")


def mask(data: Any, seen: Disclosure, key: str = "") -> Any:
    """``data`` (JSON-like) with what ``seen`` does not disclose masked, by field name and, in
    free text, by the shape of an ID number. Identifiers (``…_id``) are left as they are: they
    are how officers address cases."""
    if isinstance(data, dict):
        return {k: mask(v, seen, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask(v, seen, key) for v in data]
    if not isinstance(data, str) or not data:
        return data
    low = key.lower()
    if low.endswith("id_number"):
        return data if seen.id_numbers else mask_id_number(data)
    if low == "birth_date":  # the 8 digits the ID number's mask hides: the year only
        return data if seen.id_numbers else data[:4] + "-**-**"
    if low in ("account_number", "card_account", "account"):
        return data if seen.accounts else mask_account(data)
    if seen.id_numbers or _is_identifier(low):
        return data
    return ID_SHAPE.sub(lambda m: mask_id_number(m.group(0)), data)


def mask_bank_line(line: str, seen: Disclosure) -> str:
    """A detail line of the bank file (``D|seq|reference|account|name|id_number|amount|…``,
    ``activities/payments/bank.py``) with the account and the ID number masked as ``seen``
    says; header and trailer lines carry no personal data."""
    fields = line.split("|")
    if fields[0] != "D" or len(fields) < 6:
        return line
    if not seen.accounts:
        fields[3] = mask_account(fields[3])
    if not seen.id_numbers:
        fields[5] = mask_id_number(fields[5])
    return "|".join(fields)


def _has_personal_data(body: bytes) -> bool:
    return b"id_number" in body or b"account" in body or ID_SHAPE_BYTES.search(body) is not None


def _needs_masking(body: bytes, seen: Disclosure) -> bool:
    """Whether ``mask`` could change anything in ``body`` for an officer who sees ``seen``: a
    county or township officer's answer without card accounts goes out unparsed."""
    if not seen.id_numbers and (
        b"id_number" in body or b"birth_date" in body or ID_SHAPE_BYTES.search(body) is not None
    ):
        return True
    return not seen.accounts and b"account" in body


def _case_area(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    area = data.get("area_code") or data.get("area")
    if isinstance(area, dict):
        area = area.get("code")
    return area if isinstance(area, str) else None


class MaskPersonalData:
    """ASGI middleware applying ``mask`` to every JSON answer by the role of the officer the
    route authenticated (``request.state.actor``, set by ``api.deps.current_officer``), and
    recording unmasked reads of a person's file in the access log. Plain ASGI: only JSON
    answers are buffered (they are built whole by FastAPI anyway); files stream through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_masked(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                kind = Headers(raw=message.get("headers") or []).get("content-type", "")
                if kind.startswith("application/json"):
                    held = message
                    return
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = await self._finish(scope, held, b"".join(chunks))
            headers = MutableHeaders(scope=held)
            headers["content-length"] = str(len(body))
            await send(held)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_masked)

    async def _finish(self, scope: Scope, start: Message, body: bytes) -> bytes:
        """Parse the answer only if there is something to mask for this officer or an
        unmasked read of a person's file to record; otherwise it goes out as it came."""
        actor: Actor | None = (scope.get("state") or {}).get("actor")
        if actor is None:
            return body
        seen = disclosure(actor)
        person_file = PERSON_FILE.match(str(scope.get("path", "")))
        logged = (
            person_file is not None
            and seen.id_numbers
            and scope.get("method") == "GET"
            and start.get("status") == 200
            and _has_personal_data(body)
        )
        masked = _needs_masking(body, seen)
        if not logged and not masked:
            return body
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if logged:
            assert person_file is not None
            await record_read(
                scope,
                actor,
                kind=FILE_KINDS.get(person_file.group(1), "temporary"),
                case_id=person_file.group(2),
                area_code=_case_area(data) or actor.area_code,
                workflow_id=data.get("workflow_id") if isinstance(data, dict) else None,
            )
        if not masked:
            return body
        return json.dumps(mask(data, seen), ensure_ascii=False, separators=(",", ":")).encode()
