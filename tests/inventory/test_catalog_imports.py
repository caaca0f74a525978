"""Inventory's importers on the generic import pages (inventory/importers.py): products and
locations upserted through inventory.catalog, opening stock as receipts, and the stock movements
of inventory/resources.py — preview (a rolled-back run) writes nothing, confirm has exact counts."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.catalog import clean_product, location_upsert, product_upsert
from inventory.models import Location, Product, ReasonCode, Stock, StockMovement, Transfer
from inventory.services import StockRequest, stock_reserve
from oms.errors import DomainError
from oms.models import ImportJob, ImportStatus
from tests.factories import LocationFactory, ProductFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def login(client, role):
    user = get_user_model().objects.create(username=role)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def imported(client, kind, text, capture, name="f.csv"):
    response = client.post("/imports/new/", {"kind": kind, "file": SimpleUploadedFile(name, text.encode())})
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportStatus.PREVIEWED
    return job, lambda: _confirm(client, job, capture)


def _confirm(client, job, capture):
    with capture(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.message
    return job


def ledger():
    return sorted(Stock.objects.values_list("location__code", "product__sku", "on_hand", "reserved")), (
        StockMovement.objects.count()
    )


def test_product_upsert_and_its_cleaning():
    sku, fields, errors = clean_product(
        {
            "sku": " T1 ",
            "name": "Tea",
            "dimensions": "300 x 200 x 100 mm",
            "handling_class": "Fragile",
            "active": "no",
            "price": "¥12.50",
        }
    )
    assert not errors and sku == "T1"
    assert fields["length_mm"] == 300 and fields["height_mm"] == 100 and fields["handling_class"] == "fragile"
    assert fields["active"] is False and str(fields["price"]) == "12.50"
    assert product_upsert(sku=sku, fields=fields)[1] == "created"
    assert product_upsert(sku=sku, fields={"name": "Tea"})[1] == "unchanged"
    assert product_upsert(sku=sku, fields={"weight_g": 80})[1] == "updated"
    assert Product.objects.get(sku="T1").weight_g == 80
    with pytest.raises(DomainError):
        product_upsert(sku="T2", fields={"weight_g": 1})
    _, _, errors = clean_product({"sku": "T3", "dimensions": "30x20", "weight_g": "1.5"})
    assert {e["field"] for e in errors} == {"dimensions", "weight_g"}


def test_locations_upsert_by_code(client, django_capture_on_commit_callbacks):
    login(client, "admin")
    LocationFactory(code="sha", name="Shanghai DC")
    text = (
        "code,name,kind,country,city,cold_chain,daily_capacity,latitude\n"
        "sha,,,,,yes,500,\n"
        "bj-1,Beijing DC,warehouse,cn,北京,no,,39.9\n"
        "bad code,X,spaceship,CHN,,maybe,-1,100\n"
    )
    job, confirm = imported(client, "locations", text, django_capture_on_commit_callbacks)
    assert job.preview["good"] == 2 and job.preview["bad"] == 1 and Location.objects.count() == 1
    bad = job.preview["rows"][2]["errors"]
    assert {e["field"] for e in bad} == {"code", "kind", "country", "cold_chain", "daily_capacity", "latitude"}
    job = confirm()
    assert (job.created, job.updated, job.rejected) == (1, 1, 1)
    sha = Location.objects.get(code="sha")
    assert sha.cold_chain and sha.daily_capacity == 500 and sha.name == "Shanghai DC"
    bj = Location.objects.get(code="bj-1")
    assert (bj.country, bj.city, bj.latitude) == ("CN", "北京", 39.9)
    assert location_upsert(code="bj-1", fields={"city": "北京"})[1] == "unchanged"


def test_opening_stock_is_received_with_its_reason(client, django_capture_on_commit_callbacks):
    login(client, "warehouse")
    sha = LocationFactory(code="sha")
    ProductFactory(sku="SKU-A")
    text = "location,sku,quantity,bin\nsha,SKU-A,12,A-01\nsha,NOPE,1,\nsha,SKU-A,0,\n"
    job, confirm = imported(client, "stock", text, django_capture_on_commit_callbacks)
    assert not Stock.objects.exists() and not StockMovement.objects.exists()
    assert (job.preview["good"], job.preview["bad"]) == (1, 2)
    job = confirm()
    assert (job.created, job.rejected) == (1, 1 + 1)
    s = Stock.objects.get(location=sha)
    assert (s.on_hand, s.bin) == (12, "A-01")
    assert StockMovement.objects.get().reason_code == ReasonCode.OPENING


def test_adjustments_preview_knows_the_services_rules_and_writes_nothing(client, django_capture_on_commit_callbacks):
    login(client, "manager")
    sha, a = LocationFactory(code="sha"), ProductFactory(sku="SKU-A")
    stock(sha, a, 10)
    stock_reserve(requests=[StockRequest(sha, a, 6)], reference="SO1")
    before = ledger()
    text = "location,sku,delta,reason\nsha,SKU-A,-2,broken\nsha,SKU-A,-5,lost\n"
    job, confirm = imported(client, "stock-adjustments", text, django_capture_on_commit_callbacks)
    assert ledger() == before
    assert (job.preview["good"], job.preview["bad"]) == (1, 1)
    assert job.preview["rows"][1]["errors"]
    job = confirm()
    assert (job.created, job.rejected) == (1, 1)
    assert Stock.objects.get().on_hand == 8


def test_transfers_go_whole_or_not_at_all(client, django_capture_on_commit_callbacks):
    login(client, "warehouse")
    sha = LocationFactory(code="sha")
    LocationFactory(code="can")
    a, b = ProductFactory(sku="SKU-A"), ProductFactory(sku="SKU-B")
    stock(sha, a, 10)
    stock(sha, b, 1)
    text = (
        "from_location,to_location,sku,quantity,reference\nsha,can,SKU-A,3,T1\nsha,can,SKU-A,2,T2\nsha,can,SKU-B,5,T2\n"
    )
    job, confirm = imported(client, "stock-transfers", text, django_capture_on_commit_callbacks)
    assert not Transfer.objects.exists()
    job = confirm()
    assert (job.created, job.rejected) == (1, 2)
    assert Transfer.objects.count() == 1 and Stock.objects.get(location=sha, product=a).on_hand == 7


def test_the_inventory_import_page_still_works_and_links_the_generic_one(client):
    login(client, "warehouse")
    page = client.get("/inventory/stock/import/").content.decode()
    assert "/imports/new/?kind=stock-receipts" in page
