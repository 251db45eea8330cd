"""Settings for shopsite: everything comes from environment variables with safe local defaults,
by section: env.py (the `.env` file and the readers), core.py (Django itself), stores.py (MongoDB,
Redis, Cassandra, the cache), shop.py (the shop's rules, event outbox and worker, operator
warnings, backups), api.py (REST framework, OpenAPI), security.py (cookies, HTTPS, logging).
"""

from .api import *  # noqa: F403
from .core import *  # noqa: F403
from .env import *  # noqa: F403
from .security import *  # noqa: F403
from .shop import *  # noqa: F403
from .stores import *  # noqa: F403
