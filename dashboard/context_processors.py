from sessions_app.permissions import user_is_admin, user_is_staff


def roles(request):
    user = getattr(request, "user", None)
    return {
        "user_is_staff": bool(user and user_is_staff(user)),
        "user_is_admin": bool(user and user_is_admin(user)),
    }
