"""Responses dumped in a fraction of marshmallow's time, to the same bytes.

marshmallow serialises each field through four calls (`Field.serialize`, `get_value`, the
schema's accessor, `hasattr`/`getitem`) before the field's own conversion; for a trend's 730
points or a panel of 200 rows that is most of the response's time. `serialize` does what
`marshmallow.Schema._serialize` does — the same fields in the same order, the same `data_key`,
`attribute` and `dump_default`, each value converted as its field converts it (one call for
the common fields, a nested schema's own steps) — with the lookups worked out once per
schema. A schema this module cannot reproduce exactly (a field that does not read an
attribute or reads it its own way, a custom accessor, a dotted attribute) is dumped by
marshmallow, and a nested schema with hooks or its own way of dumping by its own `dump`. With
`VERIFY` set (the test suite sets it), every dump is compared with marshmallow's own, so a
difference fails the test that produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import marshmallow as ma
from marshmallow.utils import ensure_text_type, get_value, missing

VERIFY = False

# (attribute name, key read from the object, key written, the field's conversion, default)
Step = tuple[str, str, str, Callable[..., Any], Any]


def plan(schema: ma.Schema, within: tuple[type, ...] = ()) -> list[Step] | None:
    """The steps that dump `schema`, or None when only marshmallow can. `within`: the schemas
    being planned around it (a schema nested in itself is dumped by its field)."""
    if type(schema).get_attribute is not ma.Schema.get_attribute:
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        read = name if field.attribute is None else field.attribute
        if not _reads_plainly(field) or "." in read:
            return None
        written = name if field.data_key is None else field.data_key
        converted = converter(field, (*within, type(schema)))
        steps.append((name, read, written, converted, field.dump_default))
    return steps


def _reads_plainly(field: ma.fields.Field) -> bool:
    """The field takes its value as marshmallow's own fields do."""
    kind = type(field)
    return (
        field._CHECK_ATTRIBUTE
        and kind.get_value is ma.fields.Field.get_value
        and kind.serialize is ma.fields.Field.serialize
    )


# Fields whose conversion is one call, as each field's `_serialize` makes it (None stays None).
DIRECT: dict[type, Callable[[Any], Any]] = {
    ma.fields.UUID: str,
    ma.fields.Integer: int,
    ma.fields.Float: float,
}
# Times and dates in ISO form: marshmallow's own functions for the format (bound as "iso").
TEMPORAL = (ma.fields.DateTime, ma.fields.AwareDateTime, ma.fields.NaiveDateTime, ma.fields.Date)


def converter(field: ma.fields.Field, within: tuple[type, ...] = ()) -> Callable[..., Any]:
    """The field's conversion: one call for the common fields, a nested schema's own steps
    (without `Schema.dump` around each item), else the field's `_serialize`."""
    kind = type(field)
    if kind in DIRECT and not getattr(field, "as_string", False):
        return _unless_none(DIRECT[kind])
    if kind in TEMPORAL and getattr(field, "format", None) in ("iso", "iso8601"):
        return _unless_none(kind.SERIALIZATION_FUNCS[field.format])  # type: ignore[attr-defined]
    if kind is ma.fields.String:
        return _unless_none(ensure_text_type)
    return _nested_converter(field, within) or field._serialize


def _nested_converter(
    field: ma.fields.Field, within: tuple[type, ...]
) -> Callable[..., Any] | None:
    """A nested schema's steps for a Nested field or a List of one, or None."""
    if type(field) is ma.fields.List and type(field.inner) is ma.fields.Nested:
        inner = cast(ma.fields.Nested, field.inner)
        each = _nested(inner, within)
        if each is None or _many(inner):
            return None
        return _unless_none(lambda items: [_or_none(each, item) for item in items])
    if type(field) is ma.fields.Nested:
        nested = cast(ma.fields.Nested, field)
        steps = _nested(nested, within)
        if steps is None:
            return None
        if _many(nested):
            return _unless_none(lambda items: [serialize(steps, item) for item in items])
        return _unless_none(lambda item: serialize(steps, item))
    return None


def _unless_none(convert: Callable[[Any], Any]) -> Callable[..., Any]:
    return lambda value, name, obj: None if value is None else convert(value)


def _nested(field: ma.fields.Nested, within: tuple[type, ...]) -> list[Step] | None:
    """The steps of a nested schema that dumps as marshmallow's own do (no hooks, no override
    of how it dumps, not one of the schemas around it), or None."""
    schema = field.schema
    kind = type(schema)
    if kind in within or any(schema._hooks.values()) or schema.dict_class is not dict:
        return None
    if kind.dump is not ma.Schema.dump or kind._serialize not in OWN_SERIALIZE:
        return None
    return plan(schema, within)


# The `_serialize` of marshmallow's Schema and of ours (api.smorest registers it).
OWN_SERIALIZE: set[Callable[..., Any]] = {ma.Schema._serialize}


def _many(field: ma.fields.Nested) -> bool:
    return bool(field.schema.many or field.many)


def _or_none(steps: list[Step], value: Any) -> dict | None:
    return None if value is None else serialize(steps, value)


def read(obj: Any, key: str) -> Any:
    """marshmallow's `utils.get_value` (an item, else an attribute), a dict's item first."""
    if type(obj) is dict and key in obj:
        return obj[key]
    return get_value(obj, key, missing)


def serialize(steps: list[Step], obj: Any) -> dict:
    result = {}
    for name, key, written, convert, default in steps:
        value = read(obj, key)
        if value is missing:
            value = default() if callable(default) else default
            if value is missing:
                continue
        result[written] = convert(value, name, obj)
    return result


def check(ours: Any, theirs: Any) -> None:
    """The same values of the same types, keys in the same order, at every depth."""
    if _written(ours) != _written(theirs):
        raise AssertionError(f"dump differs from marshmallow's:\n{ours!r}\n{theirs!r}")


def _written(value: Any) -> Any:
    if isinstance(value, dict):
        return [(key, _written(item)) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [_written(item) for item in value]
    return (type(value), value)
