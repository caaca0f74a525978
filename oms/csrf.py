"""A page's CSRF token as `django.middleware.csrf.get_token` gives it, for less: one random read per string.

Django draws each of the 32 characters of a new secret, and each of the 32 of the mask that every token carries
(so that no two pages show the same token: BREACH), with ``secrets.choice``: one ``os.urandom`` call per
character, 64 for a visitor without the cookie. On the public tracking page, kept rendered (its rendering costs
nothing any more), that was most of what a view cost in Python besides its one query. Here each string is drawn
from one ``os.urandom`` read, uniformly over the same 62 characters (bytes past the largest multiple of 62 are
dropped, so there is no bias). Everything else is Django's: the secret goes where `get_token` puts it
(``request.META``, flagged for `CsrfViewMiddleware` to set the cookie or the session entry), the token is the mask
followed by the secret shifted by it, and the middleware checks it as any other (tests/oms/test_csrf_tokens.py).
"""

from __future__ import annotations

import os

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = CSRF_ALLOWED_CHARS
_BASE = len(_CHARS)
_UNBIASED = 256 - 256 % _BASE  # bytes below this map uniformly onto the characters


def random_chars(length: int = CSRF_SECRET_LENGTH) -> str:
    """``length`` characters of the CSRF alphabet, uniformly and securely drawn (as Django's
    ``get_random_string(length, CSRF_ALLOWED_CHARS)``), from one ``os.urandom`` read (rarely two)."""
    picked: list[str] = []
    while len(picked) < length:
        picked.extend(_CHARS[byte % _BASE] for byte in os.urandom(length + 8) if byte < _UNBIASED)
    return "".join(picked[:length])


def get_token(request) -> str:
    """`django.middleware.csrf.get_token`: this request's CSRF token, masked afresh; a visitor without a secret gets
    a new one, which `CsrfViewMiddleware` sends back with the response (as Django's does, the secret in use is
    flagged to be sent again so that its cookie's expiry is renewed)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = random_chars()
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_chars()
    index = _CHARS.index
    return mask + "".join(_CHARS[(index(s) + index(m)) % _BASE] for s, m in zip(secret, mask, strict=False))
