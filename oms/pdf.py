"""Render Django templates to PDF with WeasyPrint, with every resource served locally.

Templates link their stylesheets and images with `{% static %}`; the URL fetcher maps
`/static/...` to files found by the staticfiles finders (or STATIC_ROOT after
collectstatic) and refuses everything else except `data:` URIs, so rendering a PDF
never touches the network. Fonts come from the system through fontconfig (Noto Sans
CJK for Chinese, DejaVu Sans as the fallback); the font configuration object is built
once per process and reused, so render in long-lived workers.
"""

import functools
import logging
import os
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from weasyprint import HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

logger = logging.getLogger(__name__)

# The font stack every PDF template uses (see templates/pdf/base_pdf.html).
FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "DejaVu Sans", sans-serif'


class LocalOnlyURLFetcher(URLFetcher):
    """Serves `data:` URIs and the app's own static files; refuses every other URL."""

    def __init__(self, base_url: str):
        super().__init__(allowed_protocols={"data"}, fail_on_errors=False)
        self._base_netloc = urlsplit(base_url).netloc
        self._static_prefix = urlsplit(settings.STATIC_URL).path or "/static/"

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme in {"http", "https"} and parts.netloc == self._base_netloc:
            path = static_file_path(unquote(parts.path), prefix=self._static_prefix)
            if path is not None:
                return _file_response(url, path)
        logger.warning("PDF rendering refused to fetch %s", url[:200])
        raise ValueError(f"PDF rendering only loads local static files, not {url[:200]}")


def static_file_path(url_path: str, *, prefix: str | None = None) -> Path | None:
    """The local file behind a `/static/...` URL path, or None."""
    prefix = prefix or urlsplit(settings.STATIC_URL).path or "/static/"
    if not url_path.startswith(prefix):
        return None
    relative = url_path[len(prefix) :]
    if not relative or ".." in relative.split("/"):
        return None
    found = finders.find(relative)
    if found:
        return Path(found)
    # After collectstatic with a manifest storage the hashed names exist only here.
    if settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT).resolve()
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    return None


_CONTENT_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


def _file_response(url: str, path: Path):
    content_type = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    headers = {"Content-Type": content_type + ("; charset=utf-8" if content_type == "text/css" else "")}
    return URLFetcherResponse(url, path.read_bytes(), headers)


@functools.cache
def font_config() -> FontConfiguration:
    """One fontconfig set-up per process: building it costs time, reusing it is free."""
    return FontConfiguration()


def _base_url(request=None) -> str:
    if request is not None:
        return request.build_absolute_uri("/")
    return settings.SITE_URL.rstrip("/") + "/"


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render `template_name` with `context` to PDF bytes."""
    html = render_to_string(template_name, context, request=request)
    base_url = _base_url(request)
    document = HTML(string=html, base_url=base_url, url_fetcher=LocalOnlyURLFetcher(base_url))
    return document.write_pdf(font_config=font_config())


def pdf_response(pdf_bytes: bytes, filename: str, inline: bool = True) -> HttpResponse:
    """An HttpResponse that shows (inline) or downloads (attachment) a PDF."""
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    safe_name = os.path.basename(filename) or "document.pdf"
    if not safe_name.lower().endswith(".pdf"):
        safe_name += ".pdf"
    response["Content-Disposition"] = content_disposition_header(not inline, safe_name)
    response["Content-Length"] = str(len(pdf_bytes))
    response["X-Content-Type-Options"] = "nosniff"
    return response


def display_width(text: str) -> int:
    """Width of `text` in half-width cells: CJK and other wide characters count 2.
    Documents use it to pick a font size that keeps long addresses inside their box."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
