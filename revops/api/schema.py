"""The OpenAPI description of the API's shared behaviour: how to
authenticate, the error shape on every operation, the Idempotency-Key header
on writes. Contract tests (schemathesis) hold the API to it."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

READ_ERRORS = {
    400: "The query is not valid: `fields` says which parameter and why.",
    401: "No valid token or session.",
    403: "Your role may not do this.",
    404: "Nothing with this id.",
    429: "Too many requests for this token: wait `Retry-After` seconds.",
}
WRITE_ERRORS = {
    **READ_ERRORS,
    400: "The request is not valid: `fields` says which field and why.",
    409: "The record is in a state that refuses this, or the same Idempotency-Key is still being answered.",
    413: "The body is too large.",
    415: "The body is not JSON (or form data).",
    422: "The Idempotency-Key was used for a different request.",
}


class ErrorDetail(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Error(serializers.Serializer):
    error = ErrorDetail()


class ApiAutoSchema(AutoSchema):
    def _is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self._is_write():
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description="Send a retry with the same key and body to get the first answer again.",
                )
            )
        return params

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self.resolve_serializer(Error, "response").ref
        errors = WRITE_ERRORS if self._is_write() else READ_ERRORS
        for code, description in errors.items():
            if code == 404 and not self._is_detail():
                continue
            responses.setdefault(
                str(code), {"description": description, "content": {"application/json": {"schema": error}}}
            )
        return responses

    def _is_detail(self) -> bool:
        return "{" in self.path


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "revops.api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (rvo_…) made by an Integration Admin at /api/tokens/.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "revops.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
