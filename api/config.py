"""Settings from the environment; production refuses default or short secrets."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_SECRET_BYTES = 32


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


def check(config: dict) -> None:
    """Refuse settings that would be unsafe in production."""
    key = config.get("SECRET_KEY") or ""
    if config["ENV"] == "production":
        if not key:
            raise ConfigError("INTERVAL_SECRET_KEY must be set in production")
        if len(key.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"INTERVAL_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
            )
        if config["ARGON2_MEMORY_KIB"] < 19456 or config["ARGON2_TIME_COST"] < 2:
            raise ConfigError("Argon2 parameters are below the OWASP minimum (19 MiB, t=2)")
