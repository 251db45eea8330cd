"""Ties a dashboard (cookie) login to its SessionManager session.

The Django session keeps only the sha256 of the SessionManager token, so a dashboard login lives
exactly as long as that session: a new login elsewhere (which replaces it), an admin ending it, or
30 idle minutes all sign the browser out.
"""

from .manager import Session

TOKEN_HASH_KEY = "_shopsite_session_token_hash"


def bind(request, session: Session) -> None:
    request.session[TOKEN_HASH_KEY] = session.token_hash


def bound_token_hash(request) -> str:
    return request.session.get(TOKEN_HASH_KEY, "")
