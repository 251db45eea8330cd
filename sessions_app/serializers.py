"""JSON shapes of the login request and of a session."""

from rest_framework import serializers

from shopsite.api import StrictCharField


class LoginInputSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150, trim_whitespace=False)
    # Bounded so a huge body cannot make password hashing expensive.
    password = StrictCharField(max_length=4096, trim_whitespace=False, write_only=True)


class SessionOutputSerializer(serializers.Serializer):
    user_id = serializers.CharField(help_text="Django user id, as a string.")
    session_token = serializers.CharField(
        help_text="Bearer token (256 bits, URL-safe). Send as `Authorization: Bearer <token>`."
    )
    login_time = serializers.DateTimeField(help_text="UTC, ISO 8601.")
    last_active = serializers.DateTimeField(help_text="UTC, ISO 8601.")
    expires_in = serializers.IntegerField(help_text="Seconds until the session expires.")
