# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format openapi bench mutate report-screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Serve on SQLite with demo data at http://127.0.0.1:8000 (docs at /docs).
run: $(STAMP)
	$(BIN)/interval serve --demo --host 127.0.0.1 --port 8000

## The whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
test: check
	$(BIN)/pytest

## Static checks: lint, format, types over api/, and openapi.yaml against the code.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/interval openapi check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(STAMP)
	$(BIN)/interval openapi write

## Mutation testing of api/domain against the unit, API and questionnaire tests (slow: about
## two hours on two cores; not in CI). The score and every survivor go in docs/testing.md.
mutate: $(STAMP)
	HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children $(or $(MUTATE_JOBS),2) || true
	$(BIN)/python tests/mutation_report.py

## Regenerate docs/report.png from the demo clinic (needs Debian's chromium).
report-screenshot: $(STAMP)
	$(BIN)/python docs/report_screenshot.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis mutants

## The benchmark (SQLite by default; BENCH_DATABASE_URL for PostgreSQL); see docs/performance.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py
