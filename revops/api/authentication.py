"""Who is calling: a personal token (`Authorization: Bearer rvo_…`) or the
browser session (for the browsable API and the documentation page)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from revops.api.tokens import token_for_value

BAD_TOKEN = (
    "The API token is not valid: it is mistyped, revoked, or its user is deactivated. "
    "Ask an Integration Admin for a new one."
)


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token_for_value(value.strip())
        if token is None:
            raise exceptions.AuthenticationFailed(BAD_TOKEN)
        request.api_token = token
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="revops"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser user; writes need the CSRF token as pages do."""
