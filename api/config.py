"""Settings from the environment; production refuses default or short secrets."""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections import Counter
from pathlib import Path

MIN_SECRET_BYTES = 32
# A key of 32 random bytes has 256 bits; a long key of few distinct characters ("a" * 40, a
# repeated word) has far fewer. The estimate counts character frequencies (Shannon entropy).
MIN_SECRET_BITS = 128

log = logging.getLogger("interval")


class ConfigError(RuntimeError):
    """The service cannot start with these settings."""


def _instance_dir() -> Path:
    return Path(os.environ.get("INTERVAL_INSTANCE_DIR", Path.cwd() / "instance"))


def _development_secret(instance: Path) -> str:
    """A random key kept in instance/ so development tokens survive a restart."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load(overrides: dict | None = None) -> dict:
    """Build the configuration: environment first, then explicit overrides."""
    env = os.environ
    overrides = overrides or {}
    instance = Path(overrides.get("INSTANCE_DIR") or _instance_dir())
    production = (overrides.get("ENV") or env.get("INTERVAL_ENV", "development")) == "production"
    config = {
        "ENV": "production" if production else "development",
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance / 'interval.db'}"),
        "SECRET_KEY": env.get("INTERVAL_SECRET_KEY"),
        "REDIS_URL": env.get("REDIS_URL"),
        "JWT_ISSUER": env.get("INTERVAL_JWT_ISSUER", "interval"),
        "JWT_AUDIENCE": env.get("INTERVAL_JWT_AUDIENCE", "interval-api"),
        "ACCESS_TOKEN_SECONDS": int(env.get("INTERVAL_ACCESS_TOKEN_SECONDS", 900)),
        "REFRESH_IDLE_SECONDS": 7 * 24 * 3600,
        "REFRESH_ABSOLUTE_SECONDS": 30 * 24 * 3600,
        "ENROLLMENT_CODE_SECONDS": 7 * 24 * 3600,
        # RFC 9106 low-memory profile (argon2-cffi's default), above the OWASP minimum.
        "ARGON2_TIME_COST": int(env.get("INTERVAL_ARGON2_TIME_COST", 3)),
        "ARGON2_MEMORY_KIB": int(env.get("INTERVAL_ARGON2_MEMORY_KIB", 65536)),
        "ARGON2_PARALLELISM": int(env.get("INTERVAL_ARGON2_PARALLELISM", 4)),
        "LOCKOUT_THRESHOLD": 10,
        "LOCKOUT_SECONDS": 15 * 60,
        "RATE_LIMIT_PER_ADDRESS": env.get("INTERVAL_RATE_LIMIT_PER_ADDRESS", "30/minute"),
        "RATE_LIMIT_PER_ACCOUNT": env.get("INTERVAL_RATE_LIMIT_PER_ACCOUNT", "20/15minutes"),
        # Sign-ins, enrollments and password changes of the whole deployment (shared through
        # Redis; per worker without it): an Argon2 hash takes a core for about 50 ms, so this
        # keeps a login storm to a fraction of two cores (docs/performance.md, S6).
        "RATE_LIMIT_PASSWORD_CHECKS": env.get("INTERVAL_RATE_LIMIT_PASSWORD_CHECKS", "8/second"),
        # Per patient, batches counted by item: far above any real offline sync, low enough
        # that one runaway device cannot flood a clinic's inbox.
        "CHECK_IN_RATE_LIMIT": env.get("INTERVAL_CHECK_IN_RATE_LIMIT", "1000/hour"),
        # A check-in this soon after an infusion's start was filled in the chair: it counts as
        # before that infusion (PRODUCT.md §3, issue: in-chair grace).
        "IN_CHAIR_GRACE_MINUTES": int(env.get("INTERVAL_IN_CHAIR_GRACE_MINUTES", 15)),
        # Where clients reach the service (for Link headers); unset: links are relative.
        "PUBLIC_BASE_URL": env.get("INTERVAL_PUBLIC_BASE_URL"),
        # Browser origins allowed to call the API (comma-separated); none by default.
        "CORS_ORIGINS": [
            origin.strip()
            for origin in env.get("INTERVAL_CORS_ORIGINS", "").split(",")
            if origin.strip()
        ],
        # Worker processes serving this configuration (gunicorn sets WEB_CONCURRENCY).
        "WORKERS": int(env.get("WEB_CONCURRENCY", 1)),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Local protocol parameter, not a standard: infusions whose peak blood pressure reaches
        # systolic or diastolic here are flagged. Clinics can set their own.
        "INFUSION_BP_THRESHOLD": env.get("INTERVAL_INFUSION_BP_THRESHOLD", "180/110"),
        "DOCS_ENABLED": env.get("INTERVAL_DOCS", "0" if production else "1") == "1",
        "TRUSTED_PROXIES": int(env.get("INTERVAL_TRUSTED_PROXIES", 0)),
    }
    config.update(overrides)
    if config["SECRET_KEY"] is None and not production:
        config["SECRET_KEY"] = _development_secret(instance)
    check(config)
    return config


def estimated_bits(key: str) -> float:
    """Length times the Shannon entropy of the key's character frequencies; nothing for a key
    that repeats a shorter one ("0123456789" * 4)."""
    if (key + key).find(key, 1) < len(key):
        return 0.0
    counts = Counter(key)
    return -sum(n * math.log2(n / len(key)) for n in counts.values())


def check(config: dict) -> None:
    """Refuse settings that would be unsafe in production; warn about risky ones."""
    key = config.get("SECRET_KEY") or ""
    if config["ENV"] != "production":
        return
    if not key:
        raise ConfigError("INTERVAL_SECRET_KEY must be set in production")
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"INTERVAL_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
        )
    if estimated_bits(key) < MIN_SECRET_BITS:
        raise ConfigError(
            "INTERVAL_SECRET_KEY looks guessable (too few distinct characters); generate one "
            "with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    if config["ARGON2_MEMORY_KIB"] < 19456 or config["ARGON2_TIME_COST"] < 2:
        raise ConfigError("Argon2 parameters are below the OWASP minimum (19 MiB, t=2)")
    if not config.get("PUBLIC_BASE_URL"):
        log.warning(
            "INTERVAL_PUBLIC_BASE_URL is not set: links are relative and FHIR canonical URLs "
            "follow each request's host; set the address clients use",
            extra={"event": "public_base_url_unset"},
        )
    if not config.get("REDIS_URL") and config.get("WORKERS", 1) > 1:
        log.warning(
            "rate limits are kept in memory by each of %d workers, so each limit is multiplied "
            "by the number of workers: set REDIS_URL",
            config["WORKERS"],
            extra={"event": "rate_limits_in_memory"},
        )
