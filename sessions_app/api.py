"""JSON API: login, logout and /session/{user_id}/ (thin: the rules live in services.py)."""

from django.contrib.auth import logout as django_logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.api import ERROR, VALIDATION_ERROR, error_response
from shopsite.serializing import represent

from . import services
from .authentication import DashboardSessionAuthentication
from .dashboard_binding import bind
from .login_limits import client_address
from .serializers import LoginInputSerializer, SessionOutputSerializer

_detail = OpenApiResponse(ERROR)
_redis_down = error_response("Redis unavailable.")


class LoginApi(APIView):
    # No authentication classes: the cookie class would demand CSRF on this open endpoint.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Log in with Django credentials; returns a new session and its bearer token",
        description=(
            "Creates the user's session in Redis (replacing any previous one: its token stops "
            "working). Failed logins are limited per username (LOGIN_MAX_FAILURES_PER_USER) and "
            "per client address (LOGIN_MAX_FAILURES_PER_ADDRESS) within "
            "LOGIN_FAILURE_WINDOW_SECONDS: once that many have failed, every attempt gets 429 "
            "with Retry-After, even with the right password, until the window passes."
        ),
        request=LoginInputSerializer,
        responses={
            200: SessionOutputSerializer,
            400: VALIDATION_ERROR,
            401: error_response("Wrong username or password."),
            429: error_response("Too many failed logins."),
            503: _redis_down,
        },
        auth=[],
    )
    def post(self, request):
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _, session = services.login_with_password(
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
            address=client_address(request),
        )
        return _session_response(session)


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="End the caller's session",
        request=None,
        responses={204: None, 401: _detail, 503: _redis_down},
    )
    def post(self, request):
        if not services.session_end_bearer(user_id=request.user.pk, auth=request.auth):
            # Cookie login: the user_logged_out signal ends the bound SessionManager session.
            django_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _session_response(session, code=status.HTTP_200_OK) -> Response:
    response = Response(represent(SessionOutputSerializer, session.as_dict()), status=code)
    response["Cache-Control"] = "no-store"  # it carries a bearer token
    return response


_SESSION_ERRORS = {
    401: _detail,
    403: error_response("Staff asking for another user's session (even if none)."),
    404: error_response("No session (deleted or expired)."),
    503: _redis_down,
}


class SessionApi(APIView):
    """A user's session. Staff: their own only; admins: anyone's."""

    def _call(self, func, user_id):
        return func(actor=self.request.user, user_id=user_id)

    @extend_schema(
        summary="Create the user's session (replaces an existing one; takes no body)",
        request=None,
        responses={201: SessionOutputSerializer, **_SESSION_ERRORS},
    )
    def post(self, request, user_id: str):
        session = self._call(services.session_create_for, user_id)
        if isinstance(request.successful_authenticator, DashboardSessionAuthentication) and str(
            request.user.pk
        ) == str(user_id):
            bind(request._request, session)  # keep this browser signed in with the new session
        return _session_response(session, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Get the user's session",
        responses={200: SessionOutputSerializer, **_SESSION_ERRORS},
    )
    def get(self, request, user_id: str):
        return _session_response(self._call(services.session_get_for, user_id))

    @extend_schema(
        summary="Refresh last_active and the TTL (takes no body)",
        request=None,
        responses={200: SessionOutputSerializer, **_SESSION_ERRORS},
    )
    def put(self, request, user_id: str):
        return _session_response(self._call(services.session_touch_for, user_id))

    @extend_schema(
        summary="Delete the user's session (its token stops working)",
        responses={204: None, **_SESSION_ERRORS},
    )
    def delete(self, request, user_id: str):
        self._call(services.session_delete_for, user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
