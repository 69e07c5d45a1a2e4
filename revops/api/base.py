"""What every API view shares: no login redirect (a missing credential is a
401 in the error shape), the body size limit, idempotency keys on writes, and
replies to retried keys."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from rest_framework import permissions
from rest_framework.response import Response

from revops.api import idempotency
from revops.api.errors import PayloadTooLarge


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiMixin:
    """Mix into every DRF view or viewset of the API (before the DRF class)."""

    read_perm: str | None = None
    write_perm: str | None = None
    write_perms: dict[str, str] = {}

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))

    def initial(self, request, *args, **kwargs):
        limit = settings.REVOPS_API_MAX_BODY_BYTES
        if _content_length(request) > limit:
            raise PayloadTooLarge(
                f"The request body is larger than {limit:,} bytes; send fewer items per request."
            )
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if request.method not in permissions.SAFE_METHODS and hasattr(self, method):
            # Only a write this view answers takes the key; another method is a plain 405.
            request.idempotency_record = idempotency.claim(request)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            record = exc.record
            return Response(
                record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"}
            )
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(request, "idempotency_record", None)
        if record is not None:
            request.idempotency_record = None
            idempotency.remember(record, response)
        return response
