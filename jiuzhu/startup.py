"""The start-up check shared by the API, the worker and ``make run``: the payload encryption
keys and the column encryption keys of ID numbers and accounts (``jiuzhu/db/sealing.py``) must
load (production never runs without them; development creates their key files), and
every policy file must validate before anything serves (DOMAIN §9). A bad file stops start-up
with the file, the field and the reason (``PolicyFileError``), logged once in the same shape by
every process."""

from jiuzhu.codec import CodecKeyError, key_ring
from jiuzhu.db.sealing import data_keys
from jiuzhu.logging import get_logger
from jiuzhu.policy_files import PolicyFileError, load_policy_files
from jiuzhu.settings import Settings
from rules.policy import PolicyLayer

log = get_logger("jiuzhu.startup")


def check_startup(settings: Settings) -> list[PolicyLayer]:
    """Validate the payload keys, the column keys and the policy files; returns the layers.
    Raises ``CodecKeyError`` (production without keys, a malformed key; ``DataKeyError`` for
    the column keys) or ``PolicyFileError``."""
    try:
        key_ring(settings)
    except CodecKeyError as exc:
        log.error("payload encryption keys unusable", error=str(exc))
        raise
    try:
        data_keys(settings)
    except CodecKeyError as exc:
        log.error("column encryption keys unusable", error=str(exc))
        raise
    try:
        return load_policy_files(settings.policies_dir)
    except PolicyFileError as exc:
        log.error(
            "bad policy file",
            error=str(exc),
            file=str(exc.path),
            field=exc.field,
            reason=exc.reason,
        )
        raise
