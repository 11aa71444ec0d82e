"""The shape STYLE.md asks of the code: the domain stands alone, functions stay short."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

API = Path(__file__).resolve().parents[1] / "api"
MAX_FUNCTION_LINES = 60

IMPORT_THE_DOMAIN = """
import importlib, pkgutil, sys
import api.domain as domain
for module in pkgutil.iter_modules(domain.__path__):
    importlib.import_module("api.domain." + module.name)
print(sorted(m for m in sys.modules if m == "flask" or m.startswith(("flask.", "api.resources"))))
"""


def test_the_domain_imports_no_flask():
    # A fresh interpreter: this one has imported Flask for the other tests.
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", IMPORT_THE_DOMAIN],
        capture_output=True,
        text=True,
        check=True,
        cwd=API.parent,
    ).stdout.strip()
    assert loaded == "[]"


def test_no_function_is_longer_than_60_lines():
    long = []
    for path in sorted(API.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(API.parent)}:{node.lineno} {node.name}")
    assert long == []


def test_no_import_is_hidden_inside_a_function():
    hidden = []
    for path in sorted(API.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        hidden.append(f"{path.relative_to(API.parent)}:{inner.lineno}")
    assert hidden == []
