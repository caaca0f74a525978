"""The database is away (PostgreSQL restarting, a failover, SQLite busy past its timeout): answer 503
with Retry-After instead of a 500 (issue 13, item 2).

The API and the webhooks get JSON, so a client or a platform retries; pages get a short page that
says to try again. Retrying is safe: an order whose commit did go through is found again by its
channel and external id and answered 200 with ``"created": false``.
"""

import logging

from django.http import HttpResponse, JsonResponse

from .transient import is_transient

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz")


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_transient(exception):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        if request.path.startswith(MACHINE_PREFIXES):
            response = JsonResponse(
                {"error": "The database is unavailable for a moment; try again.", "retry_after": RETRY_AFTER_SECONDS},
                status=503,
            )
        else:
            response = HttpResponse(
                "<!doctype html><title>Try again in a moment</title><h1>Try again in a moment</h1>"
                "<p>The database is unavailable for a moment. Nothing was lost; reload this page shortly.</p>",
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
