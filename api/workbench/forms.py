"""HTML forms generated from a step's own body model (the pydantic model the JSON API takes), so
the workbench holds no second description of any step.

- ``form_fields(Model)`` walks the model's fields into a tree of ``FormField`` (one per input;
  nested models become fieldsets, lists of models repeated rows, lists of text one textarea line
  per item). Input names are the dotted paths of the API's own error answers
  (``household.members.0.incomes.0.monthly_amount``), so a 422 lands next to its input.
- ``form_data(Model, pairs)`` turns the posted pairs back into the JSON the API would receive:
  blank inputs are left out (the model's default applies), rows left wholly blank are dropped.
- ``field_errors(exc)`` gives the messages of a ``ValidationError`` by dotted path, worded as the
  API's problem+json words them (``api/errors.py``)."""

import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from api.errors import field_problems
from api.workbench.labels import choice_label, field_label, value_label

EXTRA_ROWS = 1  # blank rows offered below the rows already filled in a repeated group
MAX_ROWS = 100  # rows a repeated group shows at most (a posted form may name more: not shown)


@dataclass
class FormField:
    """One input (``kind`` text/textarea/date/number/decimal/select/lines) or a group
    (``kind`` group: a nested model; rows: a list of models, one ``FormField`` group per row)."""

    name: str  # the dotted path, e.g. ``card_account.holder_name``
    label: str
    kind: str
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list["FormField"] = field(default_factory=list)
    rows: list["FormField"] = field(default_factory=list)
    hint: str = ""


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` and ``None``; and whether ``None`` was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation, optional


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _choices(tp: Any) -> list[tuple[str, str]] | None:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [(str(m.value), choice_label(m)) for m in tp]
    if typing.get_origin(tp) is Literal:
        return [(str(v), value_label(str(v))) for v in typing.get_args(tp)]
    if tp is bool:
        return [("true", "是"), ("false", "否")]
    return None


def _scalar_kind(name: str, tp: Any, info: FieldInfo) -> str:
    if tp is date:
        return "date"
    if tp is int:
        return "number"
    if tp is Decimal:
        return "decimal"
    long_text = name.endswith("_zh") or any(
        getattr(m, "max_length", 0) and m.max_length > 200 for m in info.metadata
    )
    return "textarea" if long_text else "text"


def _rows_of(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def form_fields(
    model: type[BaseModel], prefix: str = "", prefill: Mapping[str, Any] | None = None
) -> list[FormField]:
    """The inputs of ``model``; ``prefill`` (the JSON shape of the model) only decides how many
    rows a repeated group shows — the values themselves are filled in by the template."""
    out: list[FormField] = []
    prefill = prefill or {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        tp, optional = _unwrap(info.annotation)
        required = info.is_required() and not optional
        label = field_label(name, model)
        origin = typing.get_origin(tp)
        if origin is list:
            (item,) = typing.get_args(tp) or (str,)
            item, _ = _unwrap(item)
            if _is_model(item):
                filled = prefill.get(name) if isinstance(prefill.get(name), list) else []
                count = min(len(filled or []), MAX_ROWS) + EXTRA_ROWS
                rows = [
                    FormField(
                        name=f"{path}.{i}",
                        label=f"{label} {i + 1}",
                        kind="group",
                        required=True,  # a row is shown whole; a blank one is not sent
                        children=form_fields(
                            item,
                            f"{path}.{i}.",
                            filled[i] if filled and i < len(filled) else None,
                        ),
                    )
                    for i in range(count)
                ]
                out.append(FormField(name=path, label=label, kind="rows", rows=rows))
            else:
                out.append(
                    FormField(
                        name=path, label=label, kind="lines", required=required, hint="每行一项"
                    )
                )
        elif _is_model(tp):
            inner = prefill.get(name) if isinstance(prefill.get(name), dict) else None
            out.append(
                FormField(
                    name=path,
                    label=label,
                    kind="group",
                    required=required,
                    children=form_fields(tp, f"{path}.", inner),
                    hint="" if required else "不适用时留空",
                )
            )
        elif (choices := _choices(tp)) is not None:
            out.append(
                FormField(name=path, label=label, kind="select", required=required, choices=choices)
            )
        else:
            out.append(
                FormField(
                    name=path, label=label, kind=_scalar_kind(name, tp, info), required=required
                )
            )
    return out


def flat_values(data: Any, prefix: str = "") -> dict[str, str]:
    """A JSON value (a case's declared household, a posted form) as ``{dotted path: text}``, the
    values a form shows in its inputs. Lists of text become one line per item."""
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flat_values(value, f"{prefix}{key}."))
    elif isinstance(data, list):
        if all(not isinstance(v, dict | list) for v in data):
            out[prefix.rstrip(".")] = "\n".join("" if v is None else str(v) for v in data)
        else:
            for i, value in enumerate(data):
                out.update(flat_values(value, f"{prefix}{i}."))
    elif data is not None:
        text = ("true" if data else "false") if isinstance(data, bool) else str(data)
        out[prefix.rstrip(".")] = text
    return out


def _set(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return  # a path through a value already set (a crafted form): ignored
    if not isinstance(node.get(parts[-1], value), dict):
        node[parts[-1]] = value


def _listify(node: Any) -> Any:
    """Dicts keyed 0, 1, … become lists in index order, wholly blank rows dropped."""
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [v for _, v in sorted(node.items(), key=lambda kv: int(kv[0])) if v not in ({}, [])]
    return {k: v for k, v in node.items() if v not in ({},)}


def form_data(model: type[BaseModel], pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The posted form as the JSON body of the step (see the module docstring)."""
    kinds = {
        _shape(f.name): f.kind
        for f in _walk(form_fields(model))
        if f.kind not in ("group", "rows")  # a group is not an input
    }
    tree: dict[str, Any] = {}
    for name, raw in pairs:
        kind = kinds.get(_shape(name))
        if kind is None or name.count(".") > 12:
            continue
        text = raw.strip()
        if kind == "lines":
            items = [line.strip() for line in raw.splitlines() if line.strip()]
            if items:
                _set(tree, name.split("."), items)
        elif text:
            if kind == "select" and text in ("true", "false"):
                _set(tree, name.split("."), text == "true")
            else:
                _set(tree, name.split("."), text)
    data = _listify(tree)
    return data if isinstance(data, dict) else {}


def _shape(name: str) -> str:
    """A dotted name with its row numbers blanked: every row of a group has the same inputs."""
    return ".".join("#" if part.isdigit() and len(part) < 4 else part for part in name.split("."))


def _walk(fields: list[FormField]) -> Iterable[FormField]:
    for f in fields:
        yield f
        yield from _walk(f.children)
        yield from _walk(f.rows)


def filled(values: Mapping[str, str], errors: Mapping[str, str], name: str) -> bool:
    """Whether the group ``name`` holds a value or an error (it is shown open then)."""
    inner = name + "."
    return any(
        key == name or key.startswith(inner)
        for key in (*(k for k, v in values.items() if v.strip()), *errors)
    )


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{dotted path: message}`` of a ``ValidationError``, as the API words them."""
    out: dict[str, str] = {}
    for problem in field_problems(exc.errors()):
        out.setdefault(problem["field"], problem["message"])
    return out


KEY = re.compile(r"^[0-9a-f]{32}$")  # the Idempotency-Key a rendered form carries


def idempotency_key(form: Mapping[str, Any]) -> str | None:
    """The form's Idempotency-Key (a 32-digit hex a page generated), or None if absent or not
    one: a form posted without it simply runs once more."""
    key = str(form.get("idempotency_key") or "")
    return key if KEY.match(key) else None
