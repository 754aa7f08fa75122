"""Encrypted histories and the operators' codec endpoint (PIPL Art. 51): a case's history read
straight from the server holds none of its ID numbers, names or accounts; the codec endpoint
decodes it for an operator with a token, refuses without one (401) or for another role (403);
keys rotate; production does not start without keys."""

import base64
import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from jiuzhu.codec import CodecKeyError, EncryptionCodec, KeyRing, key_ring
from jiuzhu.db.models_access import AccessLogEntry
from jiuzhu.settings import Settings
from jiuzhu.startup import check_startup
from tests.application.helpers import card, create, household, step, to_opinion
from tests.conftest import ROOT, auth


def texts_of(history_json: str) -> str:
    """The raw history and every base64 blob in it, decoded as far as it goes."""
    blobs = [history_json]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    try:
                        blobs.append(base64.b64decode(value).decode("utf-8", "ignore"))
                    except ValueError:
                        pass
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(history_json))
    return "\n".join(blobs)


async def test_history_holds_no_personal_data_and_the_codec_decodes_it(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    app_id, body = await create(api)
    applicant = body["household"][0]
    await to_opinion(api, app_id, household(body, incomes={0: [("wage", "600.00")]}))
    # a refused step: its failure message is encrypted too
    await step(
        api, app_id, "decision", {"outcome": "approve", "card_account": card(body)}, "county", 409
    )

    plain = await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        data_converter=pydantic_data_converter,
    )
    history = await plain.get_workflow_handle(f"application-{app_id}").fetch_history()
    raw = history.to_json()
    text = texts_of(raw)
    for secret in (applicant["id_number"], applicant["name"], body["household"][1]["id_number"]):
        assert secret not in text
    assert "binary/encrypted" in text or "YmluYXJ5L2VuY3J5cHRlZA" in raw

    payloads = [
        p
        for e in json.loads(raw)["events"]
        for attrs in e.values()
        if isinstance(attrs, dict)
        for p in (attrs.get("input") or {}).get("payloads", [])
    ]
    assert payloads, "the start event carries an encrypted input"
    request = {"payloads": payloads[:1]}

    r = await api.post("/codec/decode", json=request)
    assert r.status_code == 401
    r = await api.post("/codec/decode", json=request, headers=auth("township"))
    assert r.status_code == 403
    r = await api.post(
        "/codec/decode",
        json=request,
        headers={
            **auth("admin"),
            "Referer": f"http://ui/namespaces/default/workflows/application-{app_id}/x",
        },
    )
    assert r.status_code == 200, r.text
    inner = base64.b64decode(r.json()["payloads"][0]["data"]).decode("utf-8")
    assert applicant["id_number"] in inner
    # Without a page to name it (the CLI), the payload's own metadata names the workflow.
    r = await api.post("/codec/decode", json=request, headers=auth("county"))
    assert r.status_code == 200, r.text
    with Session(engine) as s:
        logged = s.exec(
            select(col(AccessLogEntry.workflow_id)).where(
                AccessLogEntry.kind == "codec_decode",
                AccessLogEntry.officer_id == "officer-county",
            )
        ).all()
    assert f"application-{app_id}" in logged
    # The Temporal CLI asks with {} when a workflow has no payloads: an empty answer, not 422.
    for path in ("/codec/decode", "/codec/encode"):
        r = await api.post(path, json={}, headers=auth("admin"))
        assert r.status_code == 200 and r.json() == {"payloads": []}, r.text

    # the Web UI's way: a login cookie scoped to /codec, then credentials on each call
    r = await api.post("/codec/session", json={"token": "test-token-county"})
    assert r.status_code == 204 and "httponly" in r.headers["set-cookie"].lower()
    r = await api.post(
        "/codec/default/decode", json=request, cookies={"jiuzhu_codec": "test-token-county"}
    )
    assert r.status_code == 200
    r = await api.post("/codec/session", json={"token": "test-token-finance"})
    assert r.status_code == 403

    # encode → decode round trip; a tampered payload is a 422, not a 500
    plain_payload = {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(b'"x"').decode(),
    }
    r = await api.post("/codec/encode", json={"payloads": [plain_payload]}, headers=auth("admin"))
    assert r.status_code == 200
    sealed = r.json()["payloads"][0]
    sealed["data"] = base64.b64encode(b"0" * 40).decode()
    r = await api.post("/codec/decode", json={"payloads": [sealed]}, headers=auth("admin"))
    assert r.status_code == 422


async def test_codec_cors_admits_only_the_web_ui(api: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    r = await api.options("/codec/decode", headers={**preflight, "Origin": "http://127.0.0.1:8233"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"
    assert r.headers["access-control-allow-credentials"] == "true"
    r = await api.options("/codec/decode", headers={**preflight, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


async def test_keys_rotate_old_payloads_still_decode() -> None:
    old = KeyRing.generate("k1")
    sealed = await EncryptionCodec(old).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"1")]
    )
    rotated = old.with_new_key("k2")
    codec = EncryptionCodec(rotated)
    assert (await codec.decode(sealed))[0].data == b"1"
    fresh = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"2")])
    assert fresh[0].metadata["encryption-key-id"] == b"k2"
    with pytest.raises(CodecKeyError):
        await EncryptionCodec(KeyRing.generate("k3")).decode(sealed)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"3")
    assert (await codec.decode([plain]))[0] == plain  # histories from before encryption


def test_production_refuses_to_start_without_keys(tmp_path: Path) -> None:
    settings = Settings(
        environment="production",
        seed_demo_officers=False,
        codec_keys=None,
        codec_keys_file=tmp_path / "none.json",
        policies_dir=ROOT / "policies",
    )
    with pytest.raises(CodecKeyError, match="JIUZHU_CODEC_KEYS"):
        check_startup(settings)
    with pytest.raises(CodecKeyError, match="32 bytes"):
        short = SecretStr("k:" + base64.b64encode(b"short").decode())
        key_ring(settings.model_copy(update={"codec_keys": short}))


def test_development_creates_one_key_file_readable_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "var" / "codec-keys.json"
    settings = Settings(environment="development", codec_keys=None, codec_keys_file=path)
    first = key_ring(settings)
    second = key_ring(settings)
    assert first is not None and first == second
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
