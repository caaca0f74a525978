"""The back office's language: the one a person chose (kept on their StaffProfile and in the language
cookie), else the browser's (LocaleMiddleware reads Accept-Language).

``ProfileLanguageMiddleware`` runs after authentication: a signed-in person without the language cookie
(a new browser, after signing in) gets the language of their profile, read once and then carried by the
cookie, so a page view costs no query. ``language_set`` is the header's switch: it saves the choice on
the profile and in the cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_protect

from .models import StaffProfile

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def _set_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class ProfileLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = None
        user = getattr(request, "user", None)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and user is not None and user.is_authenticated:
            chosen = StaffProfile.objects.filter(user=user).values_list("language", flat=True).first()
            if chosen in SUPPORTED:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen in SUPPORTED:
            _set_cookie(response, chosen)
        return response


@csrf_protect
def language_set(request):
    """POST ``language`` (and ``next``): the back office in that language from now on, for this person."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    language = request.POST.get("language", "")
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if language not in SUPPORTED:
        return response
    if request.user.is_authenticated:
        StaffProfile.objects.update_or_create(user=request.user, defaults={"language": language})
    _set_cookie(response, language)
    return response
