"""oms.pdf (WeasyPrint rendering, local-only URL fetcher) and oms.codes (barcodes, QR)."""

import base64
import io
import logging
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.test import override_settings
from pypdf import PdfReader

from oms.codes import code128_modules, code128_svg, qr_svg, svg_data_uri
from oms.pdf import LocalOnlyURLFetcher, display_width, font_config, pdf_response, render_pdf, static_file_path

BASE = "http://127.0.0.1:8000/"

TEST_TEMPLATES = {
    "test/doc.html": """{% extends "pdf/base_pdf.html" %}{% load static %}
{% block head %}<style>@page { size: A4; }</style>{% endblock %}
{% block content %}<h1>{{ title }}</h1><p class="mono">MONO-{{ code }}</p><p>收件人 {{ name }}</p>
<img src="{{ barcode }}" alt=""><img src="https://example.com/tracker.png" alt="">
<img src="{% static 'oms/css/does-not-exist.png' %}" alt="">{% endblock %}""",
}


def locmem_templates():
    return override_settings(
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [settings.BASE_DIR / "templates"],
                "APP_DIRS": False,
                "OPTIONS": {
                    "loaders": [
                        ("django.template.loaders.locmem.Loader", TEST_TEMPLATES),
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                },
            }
        ]
    )


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def test_render_pdf_uses_static_stylesheet_and_cjk_font(caplog):
    caplog.set_level(logging.WARNING, logger="oms.pdf")
    context = {"title": "Hello 你好", "code": "X1", "name": "张伟", "barcode": svg_data_uri(code128_svg("X1"))}
    with locmem_templates():
        pdf = render_pdf("test/doc.html", context)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Hello 你好" in text
    assert "收件人 张伟" in text
    assert "MONO-X1" in text
    fonts = font_names(pdf)
    assert any(name.startswith("Noto-Sans-CJK-SC") for name in fonts), fonts
    # .mono comes from static/oms/css/print.css: the stylesheet was fetched from disk.
    assert any(name.startswith("DejaVu-Sans-Mono") for name in fonts), fonts
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("https://example.com/tracker.png" in m for m in refused)
    assert any("does-not-exist.png" in m for m in refused)


def test_render_pdf_with_request_resolves_static_on_the_request_host(rf, settings):
    settings.ALLOWED_HOSTS = ["oms.internal"]
    request = rf.get("/anything/", HTTP_HOST="oms.internal:8443")
    context = {"title": "T", "code": "R2", "name": "李娜", "barcode": svg_data_uri(code128_svg("R2"))}
    with locmem_templates():
        pdf = render_pdf("test/doc.html", context, request=request)

    assert any(name.startswith("DejaVu-Sans-Mono") for name in font_names(pdf))


def test_fetcher_serves_static_files_from_disk():
    fetcher = LocalOnlyURLFetcher(BASE)

    response = fetcher.fetch(BASE + "static/oms/css/print.css")

    assert b"Noto Sans CJK SC" in response.read()
    assert response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/static/oms/css/print.css",  # another host
        "http://127.0.0.1:8000/media/secret.txt",  # not under /static/
        "http://127.0.0.1:8000/static/../oms/settings.py",
        "http://127.0.0.1:8000/static/oms/../../../../etc/passwd",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
    ],
)
def test_fetcher_refuses_anything_else(url):
    with pytest.raises(ValueError):
        LocalOnlyURLFetcher(BASE).fetch(url)


def test_fetcher_allows_data_uris():
    response = LocalOnlyURLFetcher(BASE).fetch(svg_data_uri("<svg xmlns='http://www.w3.org/2000/svg'/>"))
    assert response.read().startswith(b"<svg")


def test_static_file_path():
    assert static_file_path("/static/oms/css/print.css").name == "print.css"
    assert static_file_path("/static/") is None
    assert static_file_path("/static/nope/missing.css") is None
    assert static_file_path("/elsewhere/oms/css/print.css") is None


def test_font_config_is_cached_per_process():
    assert font_config() is font_config()


def test_pdf_response_inline_and_attachment():
    inline = pdf_response(b"%PDF-1.7 x", "label SH-1.pdf")
    assert inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"] == 'inline; filename="label SH-1.pdf"'
    assert inline["Content-Length"] == "10"
    assert inline.content == b"%PDF-1.7 x"

    attachment = pdf_response(b"%PDF", "拣货单", inline=False)
    assert attachment["Content-Disposition"] == "attachment; filename*=utf-8''%E6%8B%A3%E8%B4%A7%E5%8D%95.pdf"

    assert pdf_response(b"%PDF", "../../etc/x.pdf")["Content-Disposition"] == 'inline; filename="x.pdf"'


def test_display_width_counts_cjk_double():
    assert display_width("AB") == 2
    assert display_width("张伟") == 4
    assert display_width("B座18楼") == 7


def svg_root(svg: str):
    return ET.fromstring(svg)  # noqa: S314 - our own output


def test_code128_svg_sizes_modules_for_label_printers():
    value = "SF1400000000015"
    modules = code128_modules(value)
    svg = code128_svg(value, max_width_mm=90, height_mm=16)

    root = svg_root(svg)
    total = len(modules) + 20
    assert root.get("viewBox") == f"0 0 {total} 1"
    width_mm = float(root.get("width").removesuffix("mm"))
    assert width_mm == pytest.approx(total * 4 * 25.4 / 203, abs=0.01)  # 4 dots at 203 dpi
    assert width_mm <= 90
    assert root.get("height") == "16.000mm"
    bars = root.findall(".//{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    drawn = "".join(
        "1" if any(int(b.get("x")) <= i + 10 < int(b.get("x")) + int(b.get("width")) for b in bars) else "0"
        for i in range(len(modules))
    )
    assert drawn == modules


def test_code128_svg_narrows_modules_for_long_values():
    value = "1Z999AA10123456784XYZ"
    total = len(code128_modules(value)) + 20
    dot = 25.4 / 203

    def width(max_width_mm):
        return float(svg_root(code128_svg(value, max_width_mm=max_width_mm)).get("width").removesuffix("mm"))

    assert width(total * 4 * dot + 0.01) == pytest.approx(total * 4 * dot, abs=0.001)
    assert width(total * 4 * dot - 0.01) == pytest.approx(total * 3 * dot, abs=0.001)
    assert width(total * 3 * dot - 0.01) == pytest.approx(total * 2 * dot, abs=0.001)
    # Narrower than 2 dots would not scan: keep 2 dots and let the page scale it.
    assert width(10) == pytest.approx(total * 2 * dot, abs=0.001)


def test_code128_refuses_empty():
    with pytest.raises(ValueError):
        code128_svg("")


def test_qr_svg_and_data_uri():
    url = "https://oms.example.com/track/abc/"
    svg = qr_svg(url, size_mm=25)
    root = svg_root(svg)
    assert root.get("width") == "25.00mm"
    assert root.get("viewBox")
    uri = svg_data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode("utf-8") == svg
    assert svg_root(qr_svg(url)).get("width") is None
