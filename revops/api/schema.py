"""The OpenAPI description of the API's shared behaviour: how to
authenticate, the error shape on every operation, the Idempotency-Key header
on writes. Contract tests (schemathesis) hold the API to it."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,255}$"

READ_ERRORS = {
    400: "The query is not valid: `fields` says which parameter and why.",
    401: "No valid token or session.",
    403: "Your role may not do this.",
    404: "Nothing with this id (or number).",
    422: "The values are well-formed but refused (e.g. an amount range without its currency).",
    429: "Too many requests for this token: wait `Retry-After` seconds.",
}
WRITE_ERRORS = {
    **READ_ERRORS,
    400: "The request is not valid: `fields` says which field and why.",
    409: "The record is in a state that refuses this, or the same Idempotency-Key is still being answered.",
    413: "The body is too large.",
    415: "The body is not JSON (or form data).",
    422: "The business rules refuse the request (the message says which and why), "
    "or the Idempotency-Key was used for a different request.",
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
                    {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                    OpenApiParameter.HEADER,
                    description="Up to 255 visible ASCII characters. A retry with the same key and body "
                    "gets the first answer again.",
                )
            )
        return params

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self.resolve_serializer(Error, "response").ref
        errors = WRITE_ERRORS if self._is_write() else READ_ERRORS
        for code, description in errors.items():
            responses.setdefault(
                str(code), {"description": description, "content": {"application/json": {"schema": error}}}
            )
        return responses


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


NO_NUL = "^[^\\u0000]*$"


def _forbid_nul(schema) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"enum", "pattern", "format"} & set(schema)):
        schema["pattern"] = NO_NUL
    for key in ("properties", "additionalProperties", "items"):
        value = schema.get(key)
        if key == "properties" and isinstance(value, dict):
            for inner in value.values():
                _forbid_nul(inner)
        elif isinstance(value, dict):
            _forbid_nul(value)
    for key in ("allOf", "oneOf", "anyOf"):
        for inner in schema.get(key) or []:
            _forbid_nul(inner)


def forbid_nul_characters(result, generator, request, public):
    """Text never holds a NUL character (PostgreSQL cannot store one and the
    API refuses it with a 400): say so on every free-text string."""
    for component in result.get("components", {}).get("schemas", {}).values():
        _forbid_nul(component)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                _forbid_nul(parameter.get("schema"))
    return result
