"""Reads of sessions (selectors): no writes, no request objects."""

from shopsite.timeutil import parse_iso

from .manager import Session, get_session_manager


def sessions_all() -> list[Session]:
    """Every live session, most recently active first (the admins' sessions page)."""
    return sorted(
        get_session_manager().scan(), key=lambda s: parse_iso(s.last_active), reverse=True
    )
