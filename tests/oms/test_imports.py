"""The generic import pages (oms/imports/) through the products importer: preview writes
nothing, confirm runs the job (eager Celery) with exact counts, the rejected rows download carries
the reasons and escapes formulas, every page checks the importer's permission, a bad file is a
message, and the task is idempotent."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Product
from oms.imports import importers_for
from oms.imports.jobs import Progress, claim
from oms.models import ImportJob, ImportStatus
from oms.tasks import run_import_job
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def user(role: str):
    u = get_user_model().objects.create(username=f"u-{role}")
    u.groups.add(Group.objects.get(name=role))
    return u


@pytest.fixture
def admin(client):
    u = user("admin")
    client.force_login(u)
    return u


PRODUCTS = (
    "sku,name,handling_class,weight_g,dimensions,price,barcode\n"
    "NEW-1,Green tea 绿茶,standard,250,100x80x60,39.90,6901234567890\n"
    "OLD-1,Renamed,,,,,\n"
    "OLD-2,,,,,,\n"
    "=BAD(1),=HYPERLINK(\"x\"),radioactive,-3,,abc,\n"
    "NEW-2,,,,,,\n"
)


def upload(client, text: str, kind="products", name="products.csv", **extra):
    f = SimpleUploadedFile(name, text.encode("utf-8") if isinstance(text, str) else text)
    return client.post("/imports/new/", {"kind": kind, "file": f, **extra})


def test_preview_shows_each_rows_errors_and_writes_nothing(client, admin):
    ProductFactory(sku="OLD-1", name="Old name")
    ProductFactory(sku="OLD-2", name="Unchanged")
    before = sorted(Product.objects.values_list("sku", "name"))
    response = upload(client, PRODUCTS)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.PREVIEWED and job.original_filename == "products.csv"
    assert job.file.name.startswith("imports/")
    assert sorted(Product.objects.values_list("sku", "name")) == before
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 good rows, 2 with errors" in html
    preview = job.preview
    bad = {r["number"]: r["errors"] for r in preview["rows"] if r["errors"]}
    assert set(bad) == {5, 6}
    assert {e["field"] for e in bad[5]} == {"handling_class", "weight_g", "price"}
    assert "new product needs a name" in bad[6][0]["message"]
    assert preview["outcomes"] == {"created": 1, "updated": 1, "unchanged": 1}


def test_confirm_runs_the_job_with_exact_counts(client, admin, django_capture_on_commit_callbacks):
    ProductFactory(sku="OLD-1", name="Old name")
    ProductFactory(sku="OLD-2", name="Unchanged")
    upload(client, PRODUCTS)
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.message
    assert (job.total, job.processed, job.created, job.updated, job.duplicates, job.rejected) == (5, 5, 1, 1, 1, 2)
    new = Product.objects.get(sku="NEW-1")
    assert (new.name, new.weight_g, new.length_mm, new.height_mm, str(new.price)) == (
        "Green tea 绿茶", 250, 100, 60, "39.90")
    assert Product.objects.get(sku="OLD-1").name == "Renamed"
    assert not Product.objects.filter(sku="NEW-2").exists()
    # A second confirm (a double click) changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    assert Product.objects.count() == 3
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Download rejected rows" in page and 'hx-trigger="every 1s"' not in page


def test_rejected_rows_download_has_reasons_and_escapes_formulas(client, admin, django_capture_on_commit_callbacks):
    upload(client, PRODUCTS)
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    response = client.get(f"/imports/{job.pk}/rejected.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["sku", "name", "handling_class", "weight_g", "dimensions", "price", "barcode", "reason"]
    by_sku = {r[0]: r for r in rows[1:]}
    # OLD-1 and OLD-2 do not exist here: OLD-2 has no name either, OLD-1 is renamed into existence.
    assert "'=BAD(1)" in by_sku and by_sku["'=BAD(1)"][1] == "'=HYPERLINK(\"x\")"
    reason = by_sku["'=BAD(1)"][-1]
    assert "handling_class:" in reason and "weight_g:" in reason and "price:" in reason
    assert "needs a name" in by_sku["NEW-2"][-1]


def test_every_page_checks_the_importers_permission(client, admin, django_capture_on_commit_callbacks):
    upload(client, PRODUCTS)
    job = ImportJob.objects.get()
    cs = user("customer_service")  # may import orders, not products
    client.force_login(cs)
    assert "products" not in importers_for(cs) and "orders-oms-csv" in importers_for(cs)
    assert client.get("/imports/").status_code == 200
    assert "Products (create" not in client.get("/imports/new/").content.decode()
    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/progress/", f"/imports/{job.pk}/rejected.csv",
                "/imports/template/products.csv"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/imports/{job.pk}/confirm/").status_code == 403
    assert upload(client, PRODUCTS).status_code == 400  # products is not a choice for this user
    nobody = get_user_model().objects.create(username="nobody")
    client.force_login(nobody)
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/new/").status_code == 403
    client.logout()
    assert client.get("/imports/").status_code == 302


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("blank.csv", b"\xef\xbb\xbf\r\n  \r\n", "The file is empty"),
        ("header.csv", b"sku,name\n", "no rows"),
        ("broken.xlsx", b"PK\x03\x04 not really a workbook", "Not an XLSX workbook"),
        ("products.pdf", b"%PDF-1.4", "takes a CSV or XLSX file"),
    ],
)
def test_a_bad_file_is_a_message_not_a_500(client, admin, name, content, message):
    response = upload(client, content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Product.objects.exists()


def test_the_task_runs_a_job_once(client, admin, django_capture_on_commit_callbacks):
    upload(client, PRODUCTS)
    job = ImportJob.objects.get()
    run_import_job(job.pk)  # not confirmed yet: nothing happens
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and not Product.objects.exists()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    assert claim(job.pk) is True
    assert claim(job.pk) is False  # a second delivery finds it running
    run_import_job(job.pk)
    assert not Product.objects.exists()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    run_import_job(job.pk)
    run_import_job(job.pk)  # delivered twice
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created == 2 and Product.objects.count() == 2  # NEW-1, OLD-1


def test_progress_polls_while_running_and_stops_when_done(client, admin):
    upload(client, PRODUCTS)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, total=200)
    job.refresh_from_db()
    Progress(job)(100, {"created": 60, "rejected": 40})
    partial = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in partial and "100 of ~200 rows (50%)" in partial
    assert 'aria-valuenow="50"' in partial
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    partial = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial


def test_progress_writes_every_hundred_rows_or_second(client, admin):
    upload(client, PRODUCTS)
    job = ImportJob.objects.get()
    progress = Progress(job)
    progress(10, {"created": 10})
    assert ImportJob.objects.get(pk=job.pk).processed == 0
    progress(100, {"created": 100})
    assert ImportJob.objects.get(pk=job.pk).created == 100


def test_menu_shows_imports_to_importers(client, admin):
    assert 'href="/imports/"' in client.get("/imports/").content.decode()
