from channels.auth import AuthMiddlewareStack


def TokenOrSessionAuthMiddleware(inner):  # noqa: N802 - replaced by the live inbox
    return AuthMiddlewareStack(inner)
