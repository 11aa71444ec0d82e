"""The `interval` command: serve, migrate, create a clinic, load demo data, write the spec."""

from __future__ import annotations

import json
import os
import sys

import click
from werkzeug.serving import run_simple

from api.app import create_app
from api.db import utcnow
from api.demo import load_demo
from api.domain import identity
from api.domain.errors import DomainError
from api.examples import write_examples
from api.migrate import is_at_head, upgrade
from api.openapi import SPEC_PATH, generate


def _app():
    return create_app()


def _upgrade(app) -> None:
    with app.extensions["interval.db"].engine.begin() as connection:
        upgrade(connection)


# The configuration production and the benchmark share (docs/deployment.md).
GUNICORN_CONFIG = "python:api.gunicorn_config"


@click.group()
def main() -> None:
    """Interval: outcome tracking for IV ketamine clinics."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Load the demo clinic before serving.")
@click.option(
    "--production",
    is_flag=True,
    help="Serve with gunicorn and api/gunicorn_config.py; the schema must be at head "
    "(`interval db upgrade` is a deploy step).",
)
def serve(host: str, port: int, demo: bool, production: bool) -> None:
    """Serve: the development server, migrating first; or, with --production, gunicorn."""

    app = _app()
    if production:
        _serve_production(app, host, port, demo)
        return
    _upgrade(app)
    if demo:
        _load_demo(app)
    click.echo(f"Interval on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _serve_production(app, host: str, port: int, demo: bool) -> None:
    """Replace this process with gunicorn, once the database is known to be ready."""
    if demo:
        raise click.UsageError("--demo is for local use; it is never loaded with --production")
    with app.extensions["interval.db"].engine.connect() as connection:
        if not is_at_head(connection):
            raise click.ClickException(
                "the database schema is not at head: run `interval db upgrade` first"
            )
    app.extensions["interval.db"].dispose()
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG]
    # Our own interpreter running gunicorn, with arguments of ours.
    os.execv(sys.executable, [*gunicorn, "--bind", f"{host}:{port}", "wsgi:app"])  # noqa: S606  # nosec B606


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest revision."""
    _upgrade(_app())
    click.echo("database at head")


@main.command("create-clinic")
@click.option("--name", required=True)
@click.option("--admin-email", required=True)
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_clinic(name: str, admin_email: str, admin_password: str) -> None:
    """Create a clinic and its first admin; prints their ids as JSON."""

    app = _app()
    _upgrade(app)
    database = app.extensions["interval.db"]
    with database.session() as session:
        try:
            clinic, admin = identity.create_clinic(
                session,
                app.extensions["interval.identity"],
                name=name,
                admin_email=admin_email,
                admin_password=admin_password,
                now=utcnow(),
            )
        except DomainError as error:
            click.echo(f"error: {error.detail}", err=True)
            sys.exit(1)
        session.commit()
    click.echo(json.dumps({"clinic_id": str(clinic.id), "admin_user_id": str(admin.id)}))


def _load_demo(app) -> None:

    if app.config["ENV"] == "production":
        raise click.ClickException("demo data is never loaded in production")
    with app.extensions["interval.db"].session() as session:
        credentials = load_demo(
            session, app.extensions["interval.identity"], app.extensions["interval.questionnaires"]
        )
        session.commit()
    click.echo("Demo clinic (local use only):")
    for line in credentials:
        click.echo(f"  {line}")


@main.command()
def demo() -> None:
    """Load the demo clinic (idempotent) and print its sign-in details."""
    app = _app()
    _upgrade(app)
    _load_demo(app)


@main.group()
def openapi() -> None:
    """The OpenAPI document."""


@openapi.command("write")
def openapi_write() -> None:
    """Write openapi.yaml from the code."""

    SPEC_PATH.write_text(generate())
    click.echo(f"wrote {SPEC_PATH}")


@openapi.command("examples")
def openapi_examples() -> None:
    """Capture every operation's request and response examples from a throwaway service."""

    click.echo(f"wrote {write_examples()}; now run `interval openapi write`")


@openapi.command("check")
def openapi_check() -> None:
    """Fail when openapi.yaml differs from what the code generates."""

    if not SPEC_PATH.exists() or SPEC_PATH.read_text() != generate():
        raise click.ClickException("openapi.yaml is out of date: run `interval openapi write`")
    click.echo("openapi.yaml is up to date")
