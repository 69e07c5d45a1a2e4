"""Request middleware of the web app."""

from __future__ import annotations

from revops.correlation import HEADER, correlation_scope, parse_correlation_id


class CorrelationIdMiddleware:
    """Runs a request that names a flow (`X-Correlation-ID`, e.g. an API call made
    by a system that is part of it) under that id, so everything it logs carries it,
    and echoes the id on the response. A header that is not a UUID is ignored:
    it would otherwise reach logs and outbound requests as free text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = parse_correlation_id(request.headers.get(HEADER))
        if correlation_id is None:
            return self.get_response(request)
        request.correlation_id = correlation_id
        with correlation_scope(correlation_id):
            response = self.get_response(request)
        response.headers.setdefault(HEADER, correlation_id)
        return response
