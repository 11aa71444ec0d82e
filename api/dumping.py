"""Responses dumped in a fraction of marshmallow's time, to the same bytes.

marshmallow serialises each field through four calls (`Field.serialize`, `get_value`, the
schema's accessor, `hasattr`/`getitem`) before the field's own conversion; for a trend's 730
points or a panel of 200 rows that is most of the response's time. `serialize` does what
`marshmallow.Schema._serialize` does — the same fields in the same order, the same `data_key`,
`attribute` and `dump_default`, each field's own `_serialize` for the conversion — with the
lookups worked out once per schema. A schema this module cannot reproduce exactly (a field
that does not read an attribute, a custom accessor, a dotted attribute) is dumped by
marshmallow. With `VERIFY` set (the test suite sets it), every dump is compared with
marshmallow's own, so a difference fails the test that produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow.utils import missing

VERIFY = False

# (attribute name, key read from the object, key written, the field's conversion, default)
Step = tuple[str, str, str, Callable[..., Any], Any]


def plan(schema: ma.Schema) -> list[Step] | None:
    """The steps that dump `schema`, or None when only marshmallow can."""
    if type(schema).get_attribute is not ma.Schema.get_attribute:
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        read = name if field.attribute is None else field.attribute
        if not field._CHECK_ATTRIBUTE or "." in read:
            return None
        written = name if field.data_key is None else field.data_key
        steps.append((name, read, written, converter(field), field.dump_default))
    return steps


# Fields whose conversion is one call, as each field's `_serialize` makes it (None stays None).
DIRECT: dict[type, Callable[[Any], Any]] = {
    ma.fields.UUID: str,
    ma.fields.Integer: int,
    ma.fields.Float: float,
    ma.fields.DateTime: lambda value: value.isoformat(),
    ma.fields.AwareDateTime: lambda value: value.isoformat(),
    ma.fields.Date: lambda value: value.isoformat(),
}


def converter(field: ma.fields.Field) -> Callable[..., Any]:
    """The field's conversion: one call for the common fields, a nested schema's own steps
    (without `Schema.dump` around each item), else the field's `_serialize`."""
    direct = DIRECT.get(type(field))
    plain = not getattr(field, "as_string", False) and getattr(field, "format", None) is None
    if direct is not None and plain:
        return _unless_none(direct)
    if type(field) is ma.fields.String:
        return _unless_none(_text)
    if type(field) is ma.fields.List and type(field.inner) is ma.fields.Nested:
        inner = _nested(field.inner)
        if inner is not None and not _many(field.inner):
            return _unless_none(lambda items: [_or_none(inner, item) for item in items])
    if type(field) is ma.fields.Nested:
        nested = _nested(field)
        if nested is not None and _many(field):
            return _unless_none(lambda items: [serialize(nested, item) for item in items])
        if nested is not None:
            return _unless_none(lambda item: serialize(nested, item))
    return field._serialize


def _unless_none(convert: Callable[[Any], Any]) -> Callable[..., Any]:
    return lambda value, name, obj: None if value is None else convert(value)


def _nested(field: ma.fields.Nested) -> list[Step] | None:
    """The steps of a nested schema dumped without hooks, or None."""
    schema = field.schema
    if any(schema._hooks.values()):
        return None
    return plan(schema)


def _many(field: ma.fields.Nested) -> bool:
    return bool(field.schema.many or field.many)


def _or_none(steps: list[Step], value: Any) -> dict | None:
    return None if value is None else serialize(steps, value)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read(obj: Any, key: str) -> Any:
    """marshmallow's `utils.get_value` for a key without dots: an item, else an attribute."""
    if type(obj) is dict:
        value = obj.get(key, missing)
        return getattr(obj, key, missing) if value is missing else value
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, missing)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, missing)


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
