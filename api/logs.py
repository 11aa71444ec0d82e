"""JSON logs: one object a line, never a token, password or answer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import traceback

from flask import g, has_app_context

# Attributes a LogRecord always has; anything else was passed with extra= and is emitted.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[1] is not None:
            entry |= exception_fields(record.exc_info[1])
        return json.dumps(entry, default=str)


def exception_fields(error: BaseException) -> dict:
    """The exception's type and where it was raised, never its message: a database error's
    message can quote the values it refused (an email, an answer)."""
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 5:
        chain.append(type(current).__qualname__)
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(error.__traceback__)
    return {
        "exception": " <- ".join(chain),
        "traceback": [f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-15:]],
    }


class RequestIdFilter(logging.Filter):
    """Stamp every record logged during a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_app_context():
            record.request_id = g.get("request_id")
        return True


def configure(level: str = "INFO") -> None:
    logger = logging.getLogger("interval")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    logger.addFilter(RequestIdFilter())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = True
