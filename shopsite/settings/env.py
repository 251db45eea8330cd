"""Where settings come from: the environment, then a git-ignored `.env` at the repo root (the
SECRET_KEY `make run` generates, ...), read with django-environ; a variable set in the environment
wins over the file. The readers turn a malformed value into ImproperlyConfigured naming it.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# SHOPSITE_ENV_FILE names another file; empty reads none (the test settings do that).
ENV_FILE = os.environ.get("SHOPSITE_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    # overwrite=False: only names the environment does not already have are taken from the file.
    environ.Env.read_env(ENV_FILE, overwrite=False)


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def _env_number(name: str, default, kind, what: str):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
