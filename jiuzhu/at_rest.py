"""Files of personal data at rest (issue 12 item 3, bank files): written readable by their owner
only (0600, in a 0700 directory), and sealed once no process needs them in clear.

Rule — PIPL Art. 51(三) (encryption and de-identification) and Art. 28 (financial accounts and
ID numbers are sensitive personal information): the bank file lists every recipient's card
account, name and ID number; the bank's result file names every account's reference. Once a
batch is reconciled they are needed only for finance's download and for an audit, so they are
encrypted with AES-256-GCM under the payload key ring (``jiuzhu.codec.key_ring``: the same keys
that encrypt Temporal payloads, rotated the same way; the key id is stored with the file), and
the clear file is removed. The reconciliation report stays in clear (accounts already masked to
their last 4, no ID numbers).

A sealed file is ``<name>.sealed``: ``JZSEAL2|<key id>\\n``, then the file in chunks of 1 MiB,
each a record ``<4-byte length><12-byte nonce><ciphertext>`` whose associated data binds the
file's name, the chunk's index and whether it is the last (a sealed file renamed, reordered or cut
short does not open). Sealing and opening stream chunk by chunk, so a county's million-line bank
file costs about a megabyte of memory, not the file twice over. Files sealed whole by the first
format (``JZSEAL1``) still open. Without keys (the
test environment only; development and production always have them — ``jiuzhu/startup.py``)
a per-process key is used, so a file sealed by one process opens only in that process."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jiuzhu.codec import NONCE_BYTES, CodecKeyError, KeyRing

MAGIC = b"JZSEAL1"  # the whole file in one sealed record (still opened)
MAGIC_CHUNKED = b"JZSEAL2"
CHUNK_BYTES = 1 << 20
SEALED_SUFFIX = ".sealed"
FILE_MODE = 0o600
DIR_MODE = 0o700

_process_ring: KeyRing | None = None


def files_ring(ring: KeyRing | None) -> KeyRing:
    """``ring``, or (no keys configured: tests only) one key for the life of this process."""
    global _process_ring
    if ring is not None:
        return ring
    if _process_ring is None:
        _process_ring = KeyRing.generate("process-local")
    return _process_ring


def private_dir(path: Path) -> None:
    """Create ``path`` (and parents) for the owner only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def open_private(
    path: Path, mode: str = "wb", encoding: str | None = None, newline: str | None = None
) -> IO[Any]:
    """``open`` creating the file with mode 0600 (never readable by group or others, whatever
    the umask); ``mode`` is ``"w"``/``"wb"`` (truncate) or ``"r+b"``."""
    flags = os.O_CREAT | (os.O_RDWR if "+" in mode else os.O_WRONLY | os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # a file that existed before keeps no wider mode
    return os.fdopen(fd, mode, encoding=encoding, newline=newline)


def sealed_path(path: Path) -> Path:
    return path.with_name(path.name + SEALED_SUFFIX)


def _aad(name: str, index: int, last: bool) -> bytes:
    return f"{name}|{index}|{int(last)}".encode()


def seal(path: Path, ring: KeyRing) -> Path | None:
    """Encrypt ``path`` into ``<path>.sealed`` (0600), chunk by chunk, and remove the clear
    file. Idempotent: an already sealed file (no clear one) returns its sealed path; neither:
    None."""
    target = sealed_path(path)
    if not path.exists():
        return target if target.exists() else None
    cipher = AESGCM(ring.keys[ring.current])
    tmp = target.with_name(target.name + ".tmp")
    with path.open("rb") as src, open_private(tmp) as out:
        out.write(MAGIC_CHUNKED + b"|" + ring.current.encode("ascii") + b"\n")
        index, chunk = 0, src.read(CHUNK_BYTES)
        while True:
            following = src.read(CHUNK_BYTES)
            last = not following
            nonce = os.urandom(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, chunk, _aad(path.name, index, last))
            out.write(len(sealed).to_bytes(4, "big") + nonce + sealed)
            if last:
                break
            index, chunk = index + 1, following
    os.replace(tmp, target)
    path.unlink()
    return target


def iter_clear(path: Path, ring: KeyRing) -> Iterator[bytes]:
    """The file's content in chunks: the clear file if it is still there, else its sealed copy
    decrypted as it is read (``FileNotFoundError`` if neither exists, ``CodecKeyError`` if it
    does not decrypt or was cut short)."""
    if path.exists():
        with path.open("rb") as clear:
            while chunk := clear.read(CHUNK_BYTES):
                yield chunk
        return
    with sealed_path(path).open("rb") as src:
        head = src.readline().rstrip(b"\n")
        magic, _, key_id = head.partition(b"|")
        key = ring.keys.get(key_id.decode("ascii", "replace"))
        if magic not in (MAGIC, MAGIC_CHUNKED):
            raise CodecKeyError(f"{path.name}{SEALED_SUFFIX} is not a sealed file")
        if key is None:
            raise CodecKeyError(f"{path.name} was sealed with unknown key {key_id!r}")
        cipher = AESGCM(key)
        try:
            if magic == MAGIC:
                rest = src.read()
                yield cipher.decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], path.name.encode())
                return
            index = 0
            while size := src.read(4):
                nonce = src.read(NONCE_BYTES)
                sealed = src.read(int.from_bytes(size, "big"))
                last = src.peek(1)[:1] == b""  # a record sealed as not last fails here
                yield cipher.decrypt(nonce, sealed, _aad(path.name, index, last))
                if last:
                    return
                index += 1
        except InvalidTag as exc:
            raise CodecKeyError(f"{path.name} does not decrypt with key {key_id!r}") from exc
        raise CodecKeyError(f"{path.name}{SEALED_SUFFIX} is cut short")


def read_clear(path: Path, ring: KeyRing) -> bytes:
    """The whole content of ``iter_clear`` (for downloads)."""
    return b"".join(iter_clear(path, ring))


def unseal(path: Path, ring: KeyRing) -> None:
    """Put the clear file back (0600) from its sealed copy, e.g. for a retried reconciliation;
    nothing when the clear file exists or nothing was sealed."""
    if path.exists() or not sealed_path(path).exists():
        return
    tmp = path.with_name(path.name + ".tmp")
    with open_private(tmp) as out:
        for chunk in iter_clear(path, ring):
            out.write(chunk)
    os.replace(tmp, path)
