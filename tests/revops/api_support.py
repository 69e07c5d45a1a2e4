"""Helpers for API tests: a client carrying a personal token."""

from __future__ import annotations

from rest_framework.test import APIClient

from revops.actors import Actor
from revops.api.tokens import api_token_create


def token_for(user, *, maker=None) -> str:
    maker = maker or user
    return api_token_create(user=user, name=f"tests {user.get_username()}", actor=Actor.for_user(maker)).value


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client
