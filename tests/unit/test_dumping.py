"""The short way of dumping (api/dumping.py) writes what marshmallow writes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import marshmallow as ma
import pytest

from api import dumping
from api.smorest import Schema

WHEN = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)


class InnerSchema(Schema):
    total = ma.fields.Integer(required=True)
    mean = ma.fields.Float(allow_none=True)


class OuterSchema(Schema):
    id = ma.fields.UUID(required=True)
    at = ma.fields.AwareDateTime(required=True)
    start = ma.fields.AwareDateTime(data_key="from")
    shown = ma.fields.String(attribute="hidden_name")
    kind = ma.fields.String(dump_default="plain")
    made = ma.fields.Integer(dump_default=lambda: 7)
    ok = ma.fields.Boolean()
    inner = ma.fields.Nested(InnerSchema, allow_none=True)
    many = ma.fields.List(ma.fields.Nested(InnerSchema))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    raw = ma.fields.Raw()


@dataclass
class Record:
    total: int
    mean: float | None


BODY = {
    "id": uuid.UUID(int=5),
    "at": WHEN,
    "start": WHEN - dt.timedelta(days=1),
    "hidden_name": "named elsewhere",
    "ok": 1,
    "inner": Record(3, 2),
    "many": [{"total": 1, "mean": None}, Record(2, 1.5)],
    "counts": {"a": 1},
    "raw": {"kept": [1, 2]},
}


@pytest.mark.parametrize(
    "body",
    [
        BODY,
        {**BODY, "inner": None, "kind": None},
        {"id": uuid.UUID(int=6), "at": WHEN},  # the rest missing: defaults, or left out
    ],
)
def test_the_same_as_marshmallow(body):
    schema = OuterSchema()
    theirs = ma.Schema._serialize(schema, body)
    ours = schema.dump(body)
    dumping.check(ours, theirs)


def test_values_are_converted_by_their_fields():
    dumped = OuterSchema().dump(BODY)
    assert dumped["id"] == "00000000-0000-0000-0000-000000000005"
    assert dumped["at"] == "2026-10-05T14:00:00+00:00"
    assert dumped["shown"] == "named elsewhere" and "hidden_name" not in dumped
    assert (dumped["kind"], dumped["made"], dumped["ok"]) == ("plain", 7, True)
    assert dumped["inner"] == {"total": 3, "mean": 2.0}
    assert isinstance(dumped["inner"]["mean"], float)


def test_many():
    assert InnerSchema(many=True).dump([Record(1, None), {"total": 2}]) == [
        {"total": 1, "mean": None},
        {"total": 2},
    ]


class Computed(Schema):
    value = ma.fields.Method("compute")

    def compute(self, obj):
        return 1


class Accessed(Schema):
    value = ma.fields.Integer()

    def get_attribute(self, obj, attr, default):
        return 2


class Dotted(Schema):
    value = ma.fields.Integer(attribute="inner.total")


@pytest.mark.parametrize("schema", [Computed, Accessed, Dotted])
def test_what_only_marshmallow_can_dump_is_left_to_it(schema):
    assert dumping.plan(schema()) is None


def test_dotted_attributes_dumped_by_marshmallow():
    assert Dotted().dump({"inner": {"total": 4}}) == {"value": 4}


@pytest.mark.parametrize(
    "ours,theirs",
    [
        ({"a": 1}, {"a": 1.0}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"a": [True]}, {"a": [1]}),
        ({"a": {"b": "x"}}, {"a": {"b": "y"}}),
    ],
)
def test_a_difference_in_type_order_or_value_is_caught(ours, theirs):
    with pytest.raises(AssertionError):
        dumping.check(ours, theirs)


class Node(Schema):
    name = ma.fields.String()
    children = ma.fields.List(ma.fields.Nested(lambda: Node()))


def test_a_schema_nested_in_itself():
    tree = {"name": "a", "children": [{"name": "b", "children": [{"name": "c", "children": []}]}]}
    assert Node().dump(tree) == tree


def test_a_nested_copy_with_fewer_fields_is_planned_again():
    whole = InnerSchema()
    whole.dump({"total": 1, "mean": 2.0})  # planned with both fields

    class Outer(Schema):
        inner = ma.fields.Nested(whole, only=("total",))

    assert Outer().dump({"inner": {"total": 1, "mean": 2.0}}) == {"inner": {"total": 1}}


class Fixed(ma.fields.String):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return "fixed"


class WithItsOwnReading(Schema):
    value = Fixed()


class Extra(Schema):
    x = ma.fields.Integer()

    def _serialize(self, obj, *, many=False):
        return {**super()._serialize(obj, many=many), "extra": 1}


class HoldsExtra(Schema):
    d = ma.fields.Nested(Extra)


def test_a_field_or_nested_schema_that_dumps_its_own_way_keeps_it():
    assert WithItsOwnReading().dump({"value": "x"}) == {"value": "fixed"}
    assert HoldsExtra().dump({"d": {"x": 1}}) == {"d": {"x": 1, "extra": 1}}


class Times(Schema):
    day = ma.fields.Date()
    at = ma.fields.NaiveDateTime()


def test_dates_and_times_as_marshmallow_writes_them():
    body = {"day": WHEN, "at": WHEN.replace(tzinfo=None)}
    assert Times().dump(body) == {"day": "2026-10-05", "at": "2026-10-05T14:00:00"}
