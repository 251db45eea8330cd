"""Test settings: the real services, but a database, Redis db and keyspace of the test run's own.

SHOPSITE_TEST_ID and SHOPSITE_TEST_REDIS_DB let two test runs share the services without
touching each other's data.
"""

import os

# A developer's .env (make run's local values) must not change what the tests see.
os.environ.setdefault("SHOPSITE_ENV_FILE", "")
os.environ.setdefault("SHOPSITE_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("STATIC_MANIFEST", "false")

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR, env_int, env_str, redis_cache  # noqa: E402

TEST_ID = env_str("SHOPSITE_TEST_ID", "main")
MONGODB_DB = f"shop_test_{TEST_ID}"
REDIS_URL = env_str(
    "TEST_REDIS_URL", f"redis://127.0.0.1:6379/{env_int('SHOPSITE_TEST_REDIS_DB', 15)}"
)
CACHES = {"default": redis_cache(REDIS_URL)}
CASSANDRA_KEYSPACE = f"shopsite_test_{TEST_ID}"
BACKUP_DIR = BASE_DIR / ".services" / "test-backups" / TEST_ID
EVENT_SPOOL_DIR = BASE_DIR / ".services" / "test-event-spool" / TEST_ID
# Fast hashing keeps the suite quick; production uses Django's default (PBKDF2).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_COOKIES = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
