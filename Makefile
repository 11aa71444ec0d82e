# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format openapi bench mutate report-screenshot clean audit lock bench-quick

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exactly the versions CI tested (.ci/requirements.lock, from `make lock`), then the project.
$(STAMP): pyproject.toml .ci/requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r .ci/requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Re-resolve the dependencies (after a change to pyproject.toml) into .ci/requirements.lock.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra test --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file .ci/requirements.lock pyproject.toml

## Serve on SQLite with demo data at http://127.0.0.1:8000 (docs at /docs).
run: $(STAMP)
	$(BIN)/interval serve --demo --host 127.0.0.1 --port 8000

## The whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
test: check
	$(BIN)/pytest

## Static checks: lint, format, types over api/, security lint (bandit), and openapi.yaml
## against the code.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit --quiet --recursive api --severity-level low 2>/dev/null || $(BIN)/bandit --recursive api
	$(BIN)/interval openapi check

## Known vulnerabilities in the installed dependencies (needs PyPI's JSON API or OSV; the CI
## machine reaches neither, so this is run where the internet is).
audit: $(STAMP)
	$(BIN)/pip-audit --skip-editable

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(STAMP)
	$(BIN)/interval openapi write

## Mutation testing of api/domain against the unit, API and questionnaire tests (slow: about
## three hours on two cores; not in CI). It resumes from tests/mutation-record.json, the verdicts
## of the last run (tests/mutation_record.py); stopped early, it keeps what it decided. The
## score and every survivor go in docs/testing.md. mutmut keeps which tests reach which function
## from the run that first saw each test (a function split out since would be tested only by
## newer tests), so each run collects them afresh.
mutate: $(STAMP)
	$(BIN)/python tests/mutation_record.py restore
	rm -f mutants/mutmut-stats.json
	PATH="$(CURDIR)/$(BIN):$$PATH" HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children $(or $(MUTATE_JOBS),2) || true
	$(BIN)/python tests/mutation_record.py save
	$(BIN)/python tests/mutation_report.py

## Regenerate docs/report.png from the demo clinic (needs Debian's chromium).
report-screenshot: $(STAMP)
	$(BIN)/python docs/report_screenshot.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis mutants

## The benchmark (SQLite by default; BENCH_DATABASE_URL for PostgreSQL); see docs/performance.md:
## in-process latencies of the hot paths, then the server under load (gunicorn + wrk, beside C0:
## S1–S6), then, on PostgreSQL, the plans of the hot queries.
bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/load.py --write
	if [ -n "$$BENCH_DATABASE_URL" ]; then $(BIN)/python bench/explain.py --write; fi

## A second a scenario under load, in CI: fails on errors, never on timing.
bench-quick: $(STAMP)
	$(BIN)/python bench/load.py --quick
