"""Loading policy layers from YAML files (the one place policy data touches the disk).

Each file in ``policies/`` is one ``rules.policy.PolicyLayer``, named
``<area_code>@<YYYY-MM-DD>.yaml`` after the area and the date it takes effect; the file must
state the same ``area_code`` and ``effective_from``. ``version_id`` defaults to the file's stem
and ``source`` is set to the file's path (a file may not set it). Unquoted YAML floats are read
through their shortest decimal form (``0.3`` → ``Decimal("0.3")``); quoting money is preferred.
Every file, the national one included, must keep the statutory bounds
(``rules.statutory_bounds``: publicity exactly 7 days, deadlines no longer than the national
measures'). Any problem raises ``PolicyFileError`` naming the file, the field and the reason.
"""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules.policy import PolicyConflict, PolicyLayer, check_layers, layer_version_id

__all__ = [
    "PolicyFileError",
    "default_policies_dir",
    "load_policy_file",
    "load_policy_files",
]

_FILE_NAME = re.compile(
    r"^(?P<area>CN|\d{2}|\d{4}|\d{6}|\d{9}|\d{12})@(?P<date>\d{4}-\d{2}-\d{2})$"
)


class PolicyFileError(ValueError):
    """A policy file could not be loaded; ``path``, ``field`` and ``reason`` say why."""

    def __init__(self, path: Path, field: str, reason: str) -> None:
        super().__init__(f"{path}: {field}: {reason}")
        self.path = path
        self.field = field
        self.reason = reason


def default_policies_dir() -> Path:
    """The repository's ``policies/`` directory."""
    return Path(__file__).resolve().parent.parent / "policies"


def _decimals(value: Any) -> Any:
    """Replace YAML floats by ``Decimal`` of their shortest representation, recursively."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    return value


def _display_path(path: Path) -> Path:
    try:
        return path.resolve().relative_to(default_policies_dir().parent)
    except ValueError:
        return path


def load_policy_file(path: Path) -> PolicyLayer:
    """Read one policy file into a ``PolicyLayer``; ``PolicyFileError`` on any problem."""
    shown = _display_path(path)
    match = _FILE_NAME.match(path.stem)
    if match is None:
        raise PolicyFileError(
            shown,
            "file name",
            "文件名应为 <area_code>@<YYYY-MM-DD>.yaml / file must be named "
            "<area_code>@<YYYY-MM-DD>.yaml",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PolicyFileError(shown, "yaml", f"YAML语法错误 / invalid YAML: {error}") from None
    if not isinstance(raw, Mapping):
        raise PolicyFileError(shown, "file", "文件内容应为映射 / the file must hold a mapping")
    data: dict[str, Any] = {str(k): _decimals(v) for k, v in raw.items()}
    if "source" in data:
        raise PolicyFileError(shown, "source", "source由加载程序设定 / source is set by the loader")
    data["source"] = str(shown)
    data.setdefault("version_id", path.stem)
    try:
        layer = PolicyLayer.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "file"
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or 'file'}: {e.get('msg', '')}"
            for e in error.errors(include_url=False)
        )
        raise PolicyFileError(shown, field, reasons) from None
    expected = (match.group("area"), date.fromisoformat(match.group("date")))
    if (layer.area_code, layer.effective_from) != expected:
        raise PolicyFileError(
            shown,
            "area_code/effective_from",
            f"文件内容为{layer_version_id(layer.area_code, layer.effective_from)}，与文件名不符 / "
            f"content says {layer_version_id(layer.area_code, layer.effective_from)}, file name "
            f"says {path.stem}",
        )
    if statutory := layer.statutory_problems():
        # The first parameter names the field; the reason lists every bound broken.
        raise PolicyFileError(
            shown,
            statutory[0].field,
            "; ".join(f"{p.field}: {p.message}" for p in statutory),
        )
    return layer


def load_policy_files(directory: Path, *, check: bool = True) -> list[PolicyLayer]:
    """Every ``*.yaml``/``*.yml`` file in ``directory`` (not recursive), sorted by name, as
    layers. With ``check`` (default) the set must also merge validly for every area it names
    (``rules.policy.check_layers``); a problem raises ``PolicyFileError`` naming the file."""
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    layers = [load_policy_file(p) for p in paths]
    if check:
        try:
            problems = check_layers(layers)
        except PolicyConflict as conflict:
            raise PolicyFileError(directory, "area_code/effective_from", str(conflict)) from None
        if problems:
            invalid = problems[0]
            by_version = {layer.version_id: layer for layer in layers}
            last = invalid.version_id.split("+")[-1].split(":")[0]
            source = Path(by_version[last].source) if last in by_version else directory
            field = invalid.problems[0].field if invalid.problems else "policy"
            raise PolicyFileError(source, field, str(invalid))
    return layers
