"""openapi.yaml is what the code generates, and documents security and errors."""

from __future__ import annotations

import yaml

from api.openapi import SPEC_PATH, generate


def test_openapi_yaml_is_up_to_date():
    assert SPEC_PATH.read_text() == generate(), "run `interval openapi write`"


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
