"""openapi.yaml is what the code generates, and documents security and errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from api.openapi import SPEC_PATH, generate


def test_openapi_yaml_is_up_to_date():
    assert SPEC_PATH.read_text() == generate(), "run `interval openapi write`"


GENERATE_ON = """
import sys, datetime as dt, time_machine
time_machine.travel(dt.datetime(int(sys.argv[1]), 1, 1, 12, tzinfo=dt.UTC), tick=False).start()
from api.openapi import generate
sys.stdout.write(generate())
"""


@pytest.mark.parametrize("year", [2031, 2099])
def test_the_document_does_not_depend_on_the_date(year):
    # A fresh interpreter, so that anything computed when modules load sees the other date.
    generated = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", GENERATE_ON, str(year)],
        capture_output=True,
        text=True,
        check=True,
        cwd=SPEC_PATH.parent,
    ).stdout
    assert generated == SPEC_PATH.read_text()


def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def test_bearer_scheme_is_documented():
    scheme = spec()["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def operations(document: dict):
    methods = {"get", "post", "put", "patch", "delete"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in methods:
                yield path, method, operation


def test_protected_operations_document_security_and_401():
    for path, method, operation in operations(spec()):
        if operation.get("security"):
            assert "401" in operation["responses"], f"{method} {path}"


def test_every_operation_documents_problem_errors():
    document = spec()
    responses = document["components"]["responses"]
    for path, method, operation in operations(document):
        assert "default" in operation["responses"], f"{method} {path}"
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                name = response["$ref"].rsplit("/", 1)[-1]
                assert "application/problem+json" in responses[name]["content"], name


def test_validation_errors_documented_for_bodies():
    login = spec()["paths"]["/v1/auth/login"]["post"]
    assert "422" in login["responses"]


def test_the_document_validates():
    validate(spec())


def test_every_operation_is_named_summarised_tagged_and_says_who_may_call():
    ids = []
    for path, method, operation in operations(spec()):
        where = f"{method} {path}"
        ids.append(operation["operationId"])
        assert operation["summary"] and operation["tags"], where
        assert "Who may call:" in operation["description"] or (
            "Anyone may call this" in operation["description"] and not operation.get("security")
        ), where
        assert isinstance(operation["x-roles"], list), where
    assert len(ids) == len(set(ids))


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def test_every_error_is_a_problem():
    document = spec()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                content = resolve(document, response)["content"]
                assert list(content) == ["application/problem+json"], f"{method} {path}"
                assert content["application/problem+json"]["schema"] == problem


def test_response_headers_are_documented():
    document = spec()
    for path, method, operation in operations(document):
        responses = operation["responses"]
        if "201" in responses:
            assert "Location" in responses["201"]["headers"], f"{method} {path}"
        for status in ("429", "503"):
            if status in responses:
                assert "Retry-After" in resolve(document, responses[status])["headers"]
    listed = document["paths"]["/v1/patients"]["get"]["responses"]["200"]
    assert "Link" in listed["headers"]
    course = document["paths"]["/v1/courses/{course_id}"]["get"]["responses"]["200"]
    assert "ETag" in course["headers"]


def test_the_served_document_is_the_file(client):
    assert client.get("/openapi.json").get_json() == spec()


def examples_of(document: dict):
    """(where, example, schema) for every request body and answer that has content."""
    for path, method, operation in operations(document):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, resolve(document, r)) for status, r in operation["responses"].items()]
        for status, body in bodies:
            for media_type, media in body.get("content", {}).items():
                yield f"{method} {path} {status} {media_type}", media.get("example"), media


def test_every_operation_has_examples_that_match_their_schemas():
    document = spec()
    missing, invalid = [], []
    for where, example, media in examples_of(document):
        if example is None:
            missing.append(where)
            continue
        # Validated against the document itself, so that references resolve.
        schema = {**media["schema"], "components": document["components"]}
        for error in OAS31Validator(schema).iter_errors(example):
            invalid.append(f"{where}: {error.message}")
    assert missing == [] and invalid == []


def test_an_example_that_breaks_its_schema_is_caught():
    document = spec()
    login = document["paths"]["/v1/auth/login"]["post"]["requestBody"]["content"]
    schema = {**login["application/json"]["schema"], "components": document["components"]}
    assert not OAS31Validator(schema).is_valid({"email": "someone@example.com"})
