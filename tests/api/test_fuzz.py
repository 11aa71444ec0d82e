"""Every operation in openapi.yaml, fed malformed bodies and query strings by Hypothesis, answers
a 4xx problem (or its success), never a 5xx: NUL characters, unpaired surrogates, deep nesting,
integers too long to parse, NaN, numbers as strings, times that are not RFC 3339 or cannot be
represented in UTC.

Requests carry real tokens and name real records, so malformed values travel as far into the
service as they can. Run longer with FUZZ_EXAMPLES=500.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.openapi import SPEC_PATH
from api.smorest import PUBLIC, route_policy
from tests.conftest import check_in_body

DOCUMENT = yaml.safe_load(SPEC_PATH.read_text())
SCHEMAS = DOCUMENT["components"]["schemas"]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 15))

NASTY_STRINGS = [
    "\x00",
    "phq9\x00",
    "\ud800",
    "a\udfffb",
    "",
    " ",
    "1",
    "0",
    "-1",
    "0.5",
    "true",
    "null",
    "NaN",
    "1e999",
    "9" * 400,
    "x" * 5000,
    "2026-11-20 08:15:00Z",
    "2026-11-20T08:15:00",
    "20261120T081500Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2026-02-30",
    "0000-00-00",
    "../../etc/passwd",
    "' OR 1=1 --",
    "🙂",
    "00000000-0000-0000-0000-000000000000",
]
NASTY_JSON_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    -0.0,
    2**31,
    2**63,
    10**30,
    [],
    {},
    [[[[]]]],
    {"a": {"b": {"c": None}}},
    ["\x00"],
    {"\x00": 1},
    {"\ud800": "x"},
]
# Fragments written into the JSON text itself: what json.dumps would never produce.
RAW_FRAGMENTS = [
    "1" + "0" * 5000,
    "[" * 60 + "]" * 60,
    "[" * 5000 + "]" * 5000,
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    '"\\u0000"',
    '"\\ud800"',
    '"\\udc00\\ud800"',
]

fragment = st.one_of(
    st.sampled_from(NASTY_STRINGS).map(json.dumps),
    st.sampled_from(NASTY_JSON_VALUES).map(json.dumps),
    st.sampled_from(RAW_FRAGMENTS),
    st.text(max_size=20).map(json.dumps),
    st.integers().map(str),
)


def resolve(schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema or {}


def properties(schema: dict | None) -> dict[str, dict]:
    schema = resolve(schema)
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= properties(part)
    return found


@st.composite
def json_object(draw, schema: dict | None, depth: int = 0) -> str:
    """A JSON object's text with the schema's fields (and an unknown one) set to malformed
    values; one level of nested objects and arrays of objects is filled the same way."""
    fields = properties(schema)
    names = draw(st.lists(st.sampled_from([*fields, "unexpected"]), unique=True, max_size=6))
    members = []
    for name in names:
        field = resolve(fields.get(name))
        nested = field.get("items") if field.get("type") == "array" else field
        if depth == 0 and properties(nested) and draw(st.booleans()):
            value = draw(json_object(nested, depth + 1))
            if field.get("type") == "array":
                value = "[" + ",".join([value] * draw(st.integers(1, 3))) + "]"
        else:
            value = draw(fragment)
        members.append(f"{json.dumps(name)}: {value}")
    return "{" + ", ".join(members) + "}"


def body_strategy(operation: dict) -> st.SearchStrategy[str | None]:
    schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    if schema is None:
        return st.none()
    return st.one_of(json_object(schema), fragment, st.sampled_from(["", "{", '{"a":']))


def query_strategy(operation: dict) -> st.SearchStrategy[str]:
    names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
    if not names:
        return st.just("")
    pairs = st.lists(st.tuples(st.sampled_from(names), st.sampled_from(NASTY_STRINGS)), max_size=4)
    return pairs.map(
        lambda items: "&".join(
            f"{name}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
            for name, value in items
        )
    )


OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in {"get", "post", "patch", "put", "delete"}
]


@pytest.fixture
def world(client, auth, clinic, clinician, admin, patient, make_user, course_api, submit):
    """Real records for every path parameter, and who may call what."""
    course = course_api.start(patient, started_on="2026-10-01")
    infusion = course_api.infuse(course, "2026-10-02T15:00:00Z")
    check_in = submit(patient, check_in_body(i9=1)).get_json()
    [alert] = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
    colleague = make_user(clinic, "clinician")
    ids = {
        "patient_id": patient.id,
        "check_in_id": check_in["id"],
        "course_id": course["id"],
        "infusion_id": infusion["id"],
        "alert_id": alert["id"],
        "clinic_id": clinic.id,
        "user_id": colleague.id,
        "key": "phq9",
        "questionnaire": "phq9",
    }
    etags = {
        "course_id": course_api.course(course).headers["ETag"],
        "infusion_id": client.get(
            f"/v1/infusions/{infusion['id']}", headers=auth(clinician)
        ).headers["ETag"],
    }
    callers = {"patient": patient, "clinician": clinician, "clinic_admin": admin}
    return ids, etags, callers


def headers_for(app, auth, callers, method: str, path: str, etags: dict) -> dict:
    rule = path.replace("{", "<").replace("}", ">")
    endpoint = next(
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.rule.replace("uuid:", "").replace("string:", "") == rule and method in r.methods
    )
    policy = route_policy(app, endpoint, method)
    headers = {"Content-Type": "application/json", "Idempotency-Key": "fuzz-key-0001"}
    if policy not in (PUBLIC, None):
        role = "clinician" if policy == "any_user" or "clinician" in policy else policy[0]
        headers |= auth(callers[role])
    for name, etag in etags.items():
        if "{" + name + "}" in path:
            headers["If-Match"] = etag
    return headers


@pytest.mark.parametrize(
    "method,path,operation", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_malformed_input_never_answers_5xx(app, client, auth, world, method, path, operation):
    ids, etags, callers = world
    url = path.format(**{name: value for name, value in ids.items()})
    headers = headers_for(app, auth, callers, method, path, etags)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=body_strategy(operation), query=query_strategy(operation))
    def check(body, query):
        target = f"{url}?{query}" if query else url
        data = None if body is None else body.encode("utf-8", "surrogatepass")
        response = client.open(target, method=method, data=data, headers=headers)
        assert response.status_code < 500, (target, body, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"

    check()
