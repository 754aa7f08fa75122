"""Column-level encryption of ID numbers and account numbers, with a blind index for exact
lookups (issue 12 item 3; PIPL Art. 28: ID numbers and financial accounts are sensitive personal
information; Art. 51(三): encryption).

Sealed columns (``SealedString``)
    Every column that holds an ID number (身份证号) or a bank/card account is stored as
    ``v1:<key id>:<base64(nonce | ciphertext)>``: AES-256-GCM (``cryptography``'s AESGCM) with a
    random 96-bit nonce per value. The type encrypts on bind and decrypts on result, so ORM code
    reads and writes clear strings. There is no associated data tied to the table or column: the
    payroll copies sealed values between tables in set-based SQL (``INSERT … SELECT``,
    ``activities/payments/instructions.py``) and they must open wherever they land. A value
    without the ``v1:`` prefix is read as it is (rows written before migration 0016 sealed
    them in place; raw-SQL fixtures of benchmarks).

    A sealed column cannot be compared in SQL (the same number seals differently every time):
    ``==``, ``!=``, ``in_``, ``like`` … on it raise ``SealedComparison``, so a query that still
    compares the clear column fails loudly instead of finding nothing.

    ``SealedJSON`` seals a whole JSON document the same way (``{"sealed": "v1:…"}``): the
    recorded answer of an idempotent step is the case's full state, ID numbers and account
    included.

Blind index (``blind_index``)
    Every sealed column looked up or constrained by equality has a companion ``<column>_index``:
    HMAC-SHA256 under a separate key of the normalised value (stripped, upper-cased: ``x`` and
    ``X`` are one check character), its first 128 bits as 32 hex characters (ample against
    collisions among a population's numbers; half the bytes of the full MAC in every index and
    every payroll line). Unique constraints, indexes, lookups and joins between tables (deaths ×
    members, the membership sweep) use the index columns. The companion is filled automatically:
    by the ORM (``before_insert``/``before_update`` when the clear value changed) and by Core
    inserts (a column default computed from the row's parameters, e.g. the one
    payment-instruction writer); set-based SQL copies it along with the sealed value. The index
    key cannot rotate without recomputing every index (a migration).

Keys (``data_keys``, from ``Settings``)
    ``JIUZHU_DATA_KEYS`` (``id:base64,…``, the last current) with ``JIUZHU_DATA_INDEX_KEY``
    (base64), else the key file ``data_keys_file`` if it exists (``var/data-keys.json``:
    ``{"current", "keys", "index_key"}``, mode 0600). Development creates the file on first
    start; the test environment with neither derives fixed keys (``TEST_DATA_KEYS``,
    ``TEST_INDEX_KEY``); production refuses to start without them (``jiuzhu/startup.py``). The
    AES keys form a ``jiuzhu.codec.KeyRing``: new values use the current key, every key in the
    ring decrypts what names it, so a key rotates by adding a new current key and keeping the
    old ones (a row keeps its key until that value is written again).

Which keys a process uses (``configure``, ``active``)
    One ring per process, set before any sealed value is read or written: ``engine_for
    (settings)`` (API, worker, ``make run``, seeding) configures it from the process's settings;
    ``make_engine`` alone (tests, benchmarks, scripts, migrations) configures it from
    ``get_settings()`` if nothing has yet. A test reads under other keys with ``using(keys)``
    (its own thread or task only) to show that another ring cannot read the column."""

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Column, Dialect, String, event, inspect
from sqlalchemy.orm import Mapper
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from jiuzhu.codec import KEY_BYTES, NONCE_BYTES, CodecKeyError, KeyRing, create_once

if TYPE_CHECKING:
    from sqlalchemy.engine.default import DefaultExecutionContext

    from jiuzhu.settings import Settings

VERSION = "v1"
PREFIX = VERSION + ":"
INDEX_CHARS = 32  # hex characters of the blind index: 128 bits of the HMAC-SHA256
INDEX_OF = "blind_index_of"  # Column.info key: the sealed column an index column is made from
SEALED_KEY = "sealed"  # the one key of a sealed JSON document

# Fixed keys of the test environment when nothing is configured (never used elsewhere).
TEST_DATA_KEYS = "test-data-1:" + base64.b64encode(
    hashlib.sha256(b"jiuzhu test data key 1").digest()
).decode("ascii")
TEST_INDEX_KEY = base64.b64encode(hashlib.sha256(b"jiuzhu test index key").digest()).decode("ascii")


class DataKeyError(CodecKeyError):
    """Column encryption keys that cannot be used (missing in production, malformed), or a
    sealed value that does not open with them."""


class SealedComparison(TypeError):
    """A sealed column compared in SQL: compare its blind index instead."""


@dataclass(frozen=True)
class DataKeys:
    """The AES-256 ring of sealed columns and the HMAC key of the blind index."""

    ring: KeyRing
    index_key: bytes

    def __post_init__(self) -> None:
        if len(self.index_key) != KEY_BYTES:
            raise DataKeyError(f"the blind-index key must be {KEY_BYTES} bytes")
        for key_id, key in self.ring.keys.items():
            if ":" in key_id:
                raise DataKeyError(f"data key id {key_id!r} may not contain ':'")
            if key == self.index_key:
                raise DataKeyError(f"data key {key_id!r} is the blind-index key: use two keys")

    @staticmethod
    def generate(key_id: str = "dev-1") -> "DataKeys":
        return DataKeys(KeyRing.generate(key_id), os.urandom(KEY_BYTES))

    def with_new_key(self, key_id: str) -> "DataKeys":
        """A rotation of the AES keys (the blind-index key stays)."""
        return DataKeys(self.ring.with_new_key(key_id), self.index_key)

    def save(self, path: Path) -> None:
        index = base64.b64encode(self.index_key).decode("ascii")
        self.ring.save(Path(path), extra={"index_key": index})


def _parse_index_key(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataKeyError("the blind-index key is not valid base64") from exc


def data_keys(settings: "Settings") -> DataKeys:
    """The keys the settings name: ``data_keys`` + ``data_index_key``, else the key file; in
    development a missing file is created (first writer wins); in the test environment fixed
    keys; in production ``DataKeyError``."""
    if (settings.data_keys is None) != (settings.data_index_key is None):
        raise DataKeyError("set JIUZHU_DATA_KEYS and JIUZHU_DATA_INDEX_KEY together")
    if settings.data_keys is not None and settings.data_index_key is not None:
        ring = KeyRing.parse_env(settings.data_keys.get_secret_value(), "JIUZHU_DATA_KEYS")
        return DataKeys(ring, _parse_index_key(settings.data_index_key.get_secret_value()))
    path = settings.data_keys_file
    if not path.exists() and settings.environment == "development":
        create_once(path, DataKeys.generate().save)
    if path.exists():
        ring, rest = KeyRing.load_with(path, "data key file")
        if "index_key" not in rest:
            raise DataKeyError(f"data key file {path}: no index_key")
        return DataKeys(ring, _parse_index_key(str(rest["index_key"])))
    if settings.environment == "test":
        return DataKeys(KeyRing.parse_env(TEST_DATA_KEYS), _parse_index_key(TEST_INDEX_KEY))
    raise DataKeyError(
        "production needs column encryption keys for ID numbers and accounts: set "
        "JIUZHU_DATA_KEYS and JIUZHU_DATA_INDEX_KEY, or JIUZHU_DATA_KEYS_FILE "
        f"(missing: {path})"
    )


def normalise(value: str) -> str:
    """The form an ID number or account is indexed under: stripped, upper-cased."""
    return value.strip().upper()


class Sealer:
    """Seals, opens and indexes values under one ``DataKeys``."""

    def __init__(self, keys: DataKeys) -> None:
        self.keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.ring.keys.items()}
        self._current = self._ciphers[keys.ring.current]
        self._head = f"{PREFIX}{keys.ring.current}:"
        self._head_len = len(self._head)

    def seal(self, value: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, value.encode("utf-8"), None)
        return self._head + binascii.b2a_base64(nonce + sealed, newline=False).decode("ascii")

    def open(self, stored: str) -> str:
        if stored.startswith(self._head):  # the current key: the payroll's million lines
            cipher, body = self._current, stored[self._head_len :]
        elif not stored.startswith(PREFIX):
            return stored  # written before the column was sealed (migration 0016 seals it)
        else:
            key_id, _, body = stored[len(PREFIX) :].partition(":")
            found = self._ciphers.get(key_id)
            if found is None:
                raise DataKeyError(f"a sealed value names key {key_id!r}, which is not in the ring")
            cipher = found
        try:
            raw = binascii.a2b_base64(body, strict_mode=True)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError) as exc:
            key_id = stored[len(PREFIX) :].partition(":")[0]
            raise DataKeyError(f"a sealed value does not open with key {key_id!r}") from exc

    def open_optional(self, stored: str | None) -> str | None:
        """``open``, None staying None (as ``SealedString`` reads a nullable column)."""
        return None if stored is None else self.open(stored)

    def index(self, value: str) -> str:
        mac = hmac.HMAC(self.keys.index_key, hashes.SHA256())
        mac.update(normalise(value).encode("utf-8"))
        return mac.finalize()[: INDEX_CHARS // 2].hex()


_active: Sealer | None = None
# Keys used in this thread or task only (``using``): a test reads a column under another ring
# while the process's workers go on with theirs.
_scoped: ContextVar[Sealer | None] = ContextVar("jiuzhu_sealer", default=None)


def configure(keys: DataKeys) -> Sealer:
    """Use ``keys`` in this process from now on (``engine_for``; tests)."""
    global _active
    _active = Sealer(keys)
    return _active


def configure_from(settings: "Settings") -> Sealer:
    return configure(data_keys(settings))


def ensure_configured() -> Sealer:
    """The process's sealer, configured from ``get_settings()`` if nothing configured it."""
    if _active is None:
        from jiuzhu.settings import get_settings

        return configure_from(get_settings())
    return _active


def active() -> Sealer:
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    return _active if _active is not None else ensure_configured()


@contextmanager
def using(keys: DataKeys) -> Iterator[Sealer]:
    """``keys`` instead of the process's, in this thread or task, for the block (tests: another
    ring, a rotation)."""
    sealer = Sealer(keys)
    token = _scoped.set(sealer)
    try:
        yield sealer
    finally:
        _scoped.reset(token)


def seal(value: str) -> str:
    return active().seal(value)


def unseal(stored: str) -> str:
    return active().open(stored)


def blind_index(value: str) -> str:
    """The keyed HMAC-SHA256 of the normalised value (128 bits, hex): equal numbers, equal
    indexes."""
    return active().index(value)


def blind_indexes(values: Iterable[str]) -> list[str]:
    sealer = active()
    return [sealer.index(v) for v in values]


# --- the column types --------------------------------------------------------------------------
_REFUSED = frozenset(
    {
        operators.eq,
        operators.ne,
        operators.in_op,
        operators.not_in_op,
        operators.like_op,
        operators.not_like_op,
        operators.ilike_op,
        operators.not_ilike_op,
        operators.startswith_op,
        operators.endswith_op,
        operators.contains_op,
        operators.lt,
        operators.le,
        operators.gt,
        operators.ge,
    }
)


class SealedString(TypeDecorator[str]):
    """An ID number or account, sealed at rest (module docstring)."""

    impl = String
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in _REFUSED and not all(o is None for o in other):
                raise SealedComparison(
                    f"{self.expr} is sealed and cannot be compared in SQL: compare its blind "
                    "index column with blind_index(value)"
                )
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            if op in _REFUSED and other is not None:
                raise SealedComparison(f"{self.expr} is sealed: compare its blind index")
            return super().reverse_operate(op, other, **kwargs)

    comparator_factory = Comparator

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else active().seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else active().open(value)


class SealedJSON(TypeDecorator[Any]):
    """A JSON document sealed whole, for a column that may hold personal data in any field
    (the recorded answer of an idempotent step: the case's full state). Stored as
    ``{"sealed": "v1:…"}``; a document without that form is read as it is (written before
    migration 0016). NULL stays NULL."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return {SEALED_KEY: active().seal(text)}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dict) and set(value) == {SEALED_KEY}:
            return json.loads(active().open(str(value[SEALED_KEY])))
        return value


def _index_default(source: str) -> Callable[["DefaultExecutionContext"], str | None]:
    """The index column's default in a Core insert: the index of the row's ``source`` value."""

    def fill(context: "DefaultExecutionContext") -> str | None:
        params: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
        value = params.get(source)
        return None if value is None else blind_index(str(value))

    return fill


def sealed_column(*, nullable: bool = False) -> Any:
    """A sealed column for a SQLModel ``Field(sa_column=…)``."""
    return Column(SealedString(), nullable=nullable)


def index_column(source: str, *, indexed: bool = True, primary_key: bool = False) -> Any:
    """The blind index of the sealed column ``source``: indexed (unless a unique constraint
    of the table covers it, ``indexed=False``), or the primary key. Nullable otherwise: rows
    seeded in raw SQL without it (benchmarks) stay valid."""
    return Column(
        String(INDEX_CHARS),
        primary_key=primary_key,
        nullable=not primary_key,
        index=indexed and not primary_key,
        default=_index_default(source),
        info={INDEX_OF: source},
    )


@cache
def _pairs(mapper: Mapper[Any]) -> tuple[tuple[str, str], ...]:
    """(index attribute, sealed attribute) of a mapped class."""
    found = []
    for prop in mapper.column_attrs:
        for column in prop.columns:
            source = getattr(column, "info", {}).get(INDEX_OF)
            if source is not None:
                found.append((prop.key, source))
    return tuple(found)


@event.listens_for(Mapper, "before_insert")
def _index_on_insert(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    for index_attr, source in _pairs(mapper):
        value = getattr(target, source)
        setattr(target, index_attr, None if value is None else blind_index(value))


@event.listens_for(Mapper, "before_update")
def _index_on_update(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    pairs = _pairs(mapper)
    if not pairs:
        return
    state = inspect(target)
    for index_attr, source in pairs:
        if state.attrs[source].history.has_changes():
            value = getattr(target, source)
            setattr(target, index_attr, None if value is None else blind_index(value))
