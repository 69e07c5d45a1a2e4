"""Template context shared by every page: the user's roles, for navigation."""

from revops.roles import user_roles


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": set()}
    return {"user_roles": user_roles(user)}
