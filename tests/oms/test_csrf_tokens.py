"""oms.csrf.get_token gives what django.middleware.csrf.get_token gives: a token Django's middleware accepts, masked
afresh each time, the visitor's secret kept (or a new one sent back as the cookie)."""

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CsrfViewMiddleware
from django.middleware.csrf import get_token as django_get_token
from django.test import RequestFactory

from oms import csrf


def view(request):
    return HttpResponse("ok")


def page(cookie: str | None = None):
    """A GET through the middleware that takes a token: (request, token, response)."""
    factory = RequestFactory()
    if cookie is not None:
        factory.cookies[settings.CSRF_COOKIE_NAME] = cookie
    request = factory.get("/track/x/")
    middleware = CsrfViewMiddleware(lambda r: HttpResponse("page"))
    middleware.process_request(request)
    token = csrf.get_token(request)
    return request, token, middleware.process_response(request, HttpResponse("page"))


def accepted(cookie: str, token: str) -> bool:
    factory = RequestFactory()
    factory.cookies[settings.CSRF_COOKIE_NAME] = cookie
    request = factory.post("/track/x/", {"csrfmiddlewaretoken": token})
    middleware = CsrfViewMiddleware(view)
    middleware.process_request(request)
    return middleware.process_view(request, view, (), {}) is None


def test_a_new_visitor_gets_a_secret_as_cookie_and_a_token_the_middleware_accepts():
    _request, token, response = page()
    cookie = response.cookies[settings.CSRF_COOKIE_NAME].value
    assert len(cookie) == 32 and len(token) == 64
    assert set(cookie + token) <= set(CSRF_ALLOWED_CHARS)
    assert token[32:] != cookie  # masked
    assert accepted(cookie, token)
    tampered = token[:40] + ("a" if token[40] != "a" else "b") + token[41:]
    assert not accepted(cookie, tampered)
    assert not accepted(page()[2].cookies[settings.CSRF_COOKIE_NAME].value, token)  # another visitor's secret


def test_a_returning_visitor_keeps_the_secret_and_each_token_is_masked_afresh():
    cookie = page()[2].cookies[settings.CSRF_COOKIE_NAME].value
    _request, first, response = page(cookie)
    _request, second, _response = page(cookie)
    assert response.cookies[settings.CSRF_COOKIE_NAME].value == cookie  # sent again: its expiry renewed, as Django
    assert first != second and first[:32] != second[:32]
    assert accepted(cookie, first) and accepted(cookie, second)


def test_the_same_as_djangos_own_for_the_same_request():
    """Django's get_token after ours keeps our secret (and the other way round): one secret per request."""
    request, ours, response = page()
    theirs = django_get_token(request)
    cookie = response.cookies[settings.CSRF_COOKIE_NAME].value
    assert accepted(cookie, ours) and accepted(cookie, theirs)
    request = RequestFactory().get("/")
    CsrfViewMiddleware(view).process_request(request)
    theirs = django_get_token(request)
    ours = csrf.get_token(request)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert accepted(request.META["CSRF_COOKIE"], ours) and accepted(request.META["CSRF_COOKIE"], theirs)


def test_random_chars_drops_the_bytes_that_would_bias_the_draw(monkeypatch):
    reads = iter([bytes([0, 61, 62, 247, 248, 255, 123]), bytes([1] * 40)])
    monkeypatch.setattr(csrf.os, "urandom", lambda n: next(reads))
    # 0 -> a, 61 -> 9, 62 -> a, 247 -> 247 % 62 = 61 -> 9; 248 and 255 dropped; 123 -> 61 -> 9; then 1 -> b
    assert csrf.random_chars(8) == "a9a99" + "bbb"


def test_random_chars_covers_the_alphabet_and_differs_each_time():
    drawn = [csrf.random_chars() for _ in range(200)]
    assert len(set(drawn)) == 200 and all(len(x) == 32 for x in drawn)
    assert set("".join(drawn)) == set(CSRF_ALLOWED_CHARS)
