"""One JSON shape for every API error:

    {"error": {"status": 400, "code": "invalid", "message": "…",
               "fields": {"quantity": ["A quantity cannot be negative."]}}}

Shape errors (a missing field, a wrong type, a bad query parameter) are 400s;
a well-formed request the business rules refuse (an inactive assignee, usage
for a period already invoiced, an item already closed) is a 422 with the
rule's own message. `fields` maps each field (dotted for nested ones, `items.0.amount`) to its
messages; `message` says in one sentence what is wrong. The services'
own errors (DomainValidationError and other Django ValidationErrors) are those
422s; anything unexpected is logged and answered
with a 500 in the same shape, never an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"
UNEXPECTED = "Something went wrong on our side; nothing was changed. The details are in the server log."


class Unprocessable(exceptions.ValidationError):
    """A well-formed request the business rules refuse."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "refused"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"


@csrf_exempt
@login_not_required
def not_found(request, unknown: str = "") -> JsonResponse:
    body = error_body(
        404, "not_found", "Nothing is at this address; the documentation at /api/v1/docs/ lists every one."
    )
    return JsonResponse(body, status=404)


def error_body(status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"status": status_code, "code": code, "message": message, "fields": fields or {}}}


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"dotted.field": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for inner, messages in flatten(value, name).items():
                out.setdefault(inner, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(value, (dict, list)) for value in detail):
            out[prefix or NON_FIELD] = [str(value) for value in detail]
        else:
            for index, value in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for inner, messages in flatten(value, name).items():
                    out.setdefault(inner, []).extend(messages)
    else:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def _summary(fields: dict[str, list[str]]) -> str:
    first_field, messages = next(iter(fields.items()))
    if first_field in (NON_FIELD, "__all__"):
        return messages[0]
    more = len(fields) - 1
    tail = f" (and {more} more field{'s' if more > 1 else ''})" if more else ""
    return f"{first_field}: {messages[0]}{tail}"


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def _from_django_validation(exc: DjangoValidationError) -> Unprocessable:
    if hasattr(exc, "error_dict"):
        detail = {(NON_FIELD if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    else:
        detail = {NON_FIELD: exc.messages}
    return Unprocessable(detail)


def exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation(exc)
    elif isinstance(exc, Http404):
        # Django says "No ExceptionItem matches the given query."; say it for a person.
        exc = exceptions.NotFound("Nothing has this id: check it, or list the records to find the right one.")
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge("The request body is too large; send fewer items per request.")
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be read (too many fields, or malformed).")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You may not do this.")
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("API request to %s failed unexpectedly", type(view).__name__, exc_info=exc)
        return Response(error_body(500, "server_error", UNEXPECTED), status=500)
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        if not fields:
            fields = {NON_FIELD: ["The request is not valid."]}
        message = _summary(fields)
        fields = {k: v for k, v in fields.items()}
        code = "refused" if isinstance(exc, Unprocessable) else "invalid"
        response.data = error_body(response.status_code, code, message, fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail) if not isinstance(detail, (dict, list)) else _summary(flatten(detail))
        response.data = error_body(response.status_code, _code(exc), message)
    return response
