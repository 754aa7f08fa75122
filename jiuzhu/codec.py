"""Encrypted Temporal payloads (PIPL Art. 51: encryption of personal information; Art. 28: ID
numbers, accounts, illness and disability are sensitive): every payload a client or worker
sends to Temporal (workflow inputs and results, activity arguments, Update and query answers,
failure messages) is encrypted with AES-256-GCM before it leaves the process, so the Temporal
server, its database and its Web UI hold only ciphertext. Operators decode through the API's
codec endpoint (``api/routes/codec.py``), never with the keys.

Keys form a ``KeyRing``: named 32-byte keys, one of them current. New payloads are encrypted
with the current key and carry its id in the payload metadata (``encryption-key-id``); older
payloads still decrypt with the key named in them, so a key is rotated by adding a new current
key and keeping the old ones for as long as histories that use them exist.

Where the keys come from (``Settings``): ``JIUZHU_CODEC_KEYS`` (``id:base64,id:base64``, the
last one current) or the key file ``codec_keys_file`` (JSON ``{"current": id, "keys": {id:
base64}}``). ``make run`` creates a development key file under ``var/`` (mode 0600) on first
start; production refuses to start without keys (``jiuzhu/startup.py``).

The cipher is ``cryptography``'s AESGCM (a maintained, audited library; see README) with a
random 96-bit nonce per payload; the payload's own encoding metadata is encrypted with it
(the whole ``Payload`` message is the plaintext). Payloads without our encoding pass through
decoding unchanged (histories recorded before encryption still replay)."""

import base64
import binascii
import copy
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)

if TYPE_CHECKING:
    from jiuzhu.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
# Plain metadata naming the workflow a payload belongs to (ids are opaque: no personal data), so
# the codec server's access log can say which workflow an operator decoded.
WORKFLOW_ID = "jiuzhu-workflow-id"
NONCE_BYTES = 12
KEY_BYTES = 32


class CodecKeyError(ValueError):
    """Keys that cannot be used: malformed, of the wrong length, or missing."""


@dataclass(frozen=True)
class KeyRing:
    """Named AES-256 keys; ``current`` encrypts, every key decrypts what names it."""

    keys: Mapping[str, bytes]
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise CodecKeyError(f"the current key {self.current!r} is not in the key ring")
        for key_id, key in self.keys.items():
            if not key_id or len(key_id) > 64 or not key_id.isascii():
                raise CodecKeyError(f"key id {key_id!r}: 1–64 ASCII characters")
            if len(key) != KEY_BYTES:
                raise CodecKeyError(f"key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")

    @staticmethod
    def generate(key_id: str) -> "KeyRing":
        return KeyRing({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    def with_new_key(self, key_id: str) -> "KeyRing":
        """A rotation: a new current key; the old ones stay for decoding."""
        if key_id in self.keys:
            raise CodecKeyError(f"key id {key_id!r} already exists")
        keys = {**self.keys, key_id: AESGCM.generate_key(bit_length=256)}
        return KeyRing(keys, key_id)

    # --- text forms ---------------------------------------------------------------------
    @staticmethod
    def parse_env(value: str, setting: str = "JIUZHU_CODEC_KEYS") -> "KeyRing":
        """``id:base64[,id:base64…]``; the last key is current. ``setting`` names the variable
        in error messages."""
        keys: dict[str, bytes] = {}
        current = ""
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            key_id, sep, encoded = part.partition(":")
            if not sep:
                raise CodecKeyError(f"{setting}: each key is id:base64")
            keys[key_id.strip()] = b64_key(encoded.strip(), key_id)
            current = key_id.strip()
        if not keys:
            raise CodecKeyError(f"{setting} holds no key")
        return KeyRing(keys, current)

    @staticmethod
    def load(path: Path, what: str = "codec key file") -> "KeyRing":
        return KeyRing.load_with(path, what)[0]

    @staticmethod
    def load_with(path: Path, what: str = "key file") -> tuple["KeyRing", dict[str, Any]]:
        """The ring of a key file and the file's other fields (e.g. the column encryption's
        blind-index key, ``jiuzhu/db/sealing.py``)."""
        try:
            raw = dict(json.loads(path.read_text(encoding="utf-8")))
            keys = {str(k): b64_key(str(v), str(k)) for k, v in dict(raw.pop("keys")).items()}
            return KeyRing(keys, str(raw.pop("current"))), raw
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CodecKeyError(f"{what} {path}: {exc}") from exc

    def save(self, path: Path, extra: Mapping[str, str] | None = None) -> None:
        """Write the key file readable by its owner only (0600), atomically; ``extra``: other
        fields of the file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        body = {
            **(extra or {}),
            "current": self.current,
            "keys": {k: base64.b64encode(v).decode("ascii") for k, v in self.keys.items()},
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=2)
        os.replace(tmp, path)


def b64_key(encoded: str, key_id: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CodecKeyError(f"key {key_id!r} is not valid base64") from exc


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-256-GCM over the serialized payload; the key id travels in the metadata, and so does
    the id of the workflow the payload belongs to where the SDK gives it (serialization
    context)."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}
        self.workflow_id: bytes | None = None

    def with_context(self, context: SerializationContext) -> "EncryptionCodec":
        workflow_id = getattr(context, "workflow_id", None)
        named = workflow_id.encode("utf-8") if workflow_id else None
        if named == self.workflow_id:
            return self
        clone = copy.copy(self)
        clone.workflow_id = named
        return clone

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.ring.current
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), None)
        metadata = {"encoding": ENCODING, KEY_ID: key_id.encode("ascii")}
        if self.workflow_id is not None:
            metadata[WORKFLOW_ID] = self.workflow_id
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # recorded before encryption, or not ours: unchanged
        key_id = payload.metadata.get(KEY_ID, b"").decode("ascii", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecKeyError(f"payload encrypted with unknown key {key_id!r}")
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except InvalidTag as exc:
            raise CodecKeyError(f"payload does not decrypt with key {key_id!r}") from exc
        out = Payload()
        out.ParseFromString(plain)
        return out


def workflow_ids_of(payloads: Sequence[Payload]) -> list[str]:
    """The workflows these encrypted payloads belong to, as their metadata names them (in
    order, each once)."""
    named = (p.metadata.get(WORKFLOW_ID) for p in payloads)
    return list(dict.fromkeys(w.decode("utf-8", "replace") for w in named if w))


def data_converter(ring: KeyRing | None) -> DataConverter:
    """The pydantic data converter, encrypting payloads and failure messages when ``ring`` is
    given (every client and worker; tests and replays with the same ring)."""
    if ring is None:
        return pydantic_data_converter
    return replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def key_ring(settings: "Settings") -> KeyRing | None:
    """The key ring the settings name: ``codec_keys`` first, else the key file. In development
    a missing key file is created (first writer wins, so API and worker starting together share
    one key). None only in the test environment without keys; production without keys raises
    ``CodecKeyError``."""
    if settings.codec_keys is not None:
        return KeyRing.parse_env(settings.codec_keys.get_secret_value())
    path = settings.codec_keys_file
    if path.exists():
        return KeyRing.load(path)
    if settings.environment == "development":
        create_once(path, KeyRing.generate("dev-1").save)
        return KeyRing.load(path)
    if settings.environment == "production":
        raise CodecKeyError(
            "production needs payload encryption keys: set JIUZHU_CODEC_KEYS or "
            f"JIUZHU_CODEC_KEYS_FILE (missing: {path})"
        )
    return None


def create_once(path: Path, write: Callable[[Path], None]) -> None:
    """A development key file written by ``write``, created once: the first process to link
    it into place wins, so processes starting together share one file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    write(tmp)
    try:
        os.link(tmp, path)  # fails if another process created it first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
