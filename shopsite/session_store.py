"""Django's cache session engine, except that a Redis outage is reported, not hidden.

The stock engine treats any cache error as "no session", which signs everyone out and sends
them to a login page that cannot work either; a 503 naming Redis is the honest answer.
"""

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from .errors import backend_of


class SessionStore(CacheSessionStore):
    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)
        except Exception as exc:
            if backend_of(exc):
                raise
            session_data = None  # e.g. an invalid key: start a new session, as Django does
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
