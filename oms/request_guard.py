"""The HTTP edge: what a request may carry before any view reads it.

- ``RejectNulMiddleware`` answers 400 to a NUL (``%00``) in the path or the query string. A NUL
  cannot be stored in PostgreSQL text and no URL or filter of the OMS ever holds one, so it is
  refused before a view passes it to the database (which would answer with a 500).
- ``read_body`` returns the raw body of an intake request (API, order and tracking webhooks) or
  raises ``BodyTooLarge`` past ``settings.INTAKE_MAX_BODY_BYTES``; the view answers 413 and
  records the refusal.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse

NUL_MESSAGE = "The address contains a NUL character (%00); no address of this service holds one."


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in request.path_info or "%00" in query or "\x00" in query:
            if request.path.startswith("/api/"):
                return JsonResponse({"error": NUL_MESSAGE}, status=400)
            return HttpResponse(NUL_MESSAGE, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class BodyTooLarge(Exception):
    def __init__(self, size: int | None, limit: int):
        self.size = size
        self.limit = limit
        told = f"{size} bytes" if size is not None else "more bytes than allowed"
        super().__init__(f"The body is too large: {told}; the limit is {limit} bytes.")


def max_body_bytes() -> int:
    return int(getattr(settings, "INTAKE_MAX_BODY_BYTES", 2 * 1024 * 1024))


def read_body(request) -> bytes:
    """The raw request body, or BodyTooLarge (declared or actual size past the limit)."""
    limit = max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge(declared, limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise BodyTooLarge(declared or None, limit) from None
    if len(body) > limit:
        raise BodyTooLarge(len(body), limit)
    return body
