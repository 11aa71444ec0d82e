"""Keyset pagination over a real table: every direction of every key, with ties on the first
key, walks each row once and in the order of the ORDER BY."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from api import factories
from api.domain.pagination import BadCursor, keyset_page
from api.models import Clinic

REFUSAL = "The cursor is not valid; start again without it."


def walk(session, directions: list[bool]) -> list:
    keys = [Clinic.name, Clinic.id]
    seen, cursor = [], None
    for _ in range(10):  # seven rows, two a page: a page that repeats one never ends
        page = keyset_page(
            session, select(Clinic), keys=keys, limit=2, cursor=cursor, descending=directions
        )
        seen += [(clinic.name, clinic.id) for clinic in page.items]
        if (cursor := page.next_key) is None:
            return seen
    raise AssertionError(f"still paging after {seen}")


@pytest.mark.parametrize(
    "directions", [list(d) for d in itertools.product([False, True], repeat=2)]
)
def test_every_row_once_in_order(session, directions):
    for name in ("b", "a", "b", "c", "a", "b", "a"):
        factories.clinic(session, name)
    session.flush()
    rows = [(clinic.name, clinic.id) for clinic in session.scalars(select(Clinic))]
    by_id = sorted(rows, key=lambda row: row[1], reverse=directions[1])
    expected = sorted(by_id, key=lambda row: row[0], reverse=directions[0])
    assert walk(session, directions) == expected


@pytest.mark.parametrize("position", [{"name": "a"}, {"name": "a", "id": "not an id"}])
def test_a_cursor_without_a_position_is_refused(session, position):
    with pytest.raises(BadCursor) as refused:
        keyset_page(
            session, select(Clinic), keys=[Clinic.name, Clinic.id], limit=2, cursor=position
        )
    assert refused.value.detail == REFUSAL


def test_a_last_page_just_full_has_no_next_cursor(session):
    ids = [factories.clinic(session, name).id for name in ("a", "b")]
    session.flush()
    mine = select(Clinic).where(Clinic.id.in_(ids))
    page = keyset_page(session, mine, keys=[Clinic.name, Clinic.id], limit=2, cursor=None)
    assert [clinic.name for clinic in page.items] == ["b", "a"]
    assert page.next_key is None
