"""Bins (inventory/bins.py, inventory/bin_views.py): a location's bins page with the products stocked
in each, create / edit / deactivate through the pages with permissions, the bins import on the
generic import pages, and Stock.bin kept consistent with the location's Bin rows."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory import bins
from inventory.models import Bin, Stock, StockMovement
from oms.errors import DomainError
from oms.models import ImportJob, ImportStatus
from tests.factories import LocationFactory, ProductFactory, stock

pytestmark = pytest.mark.django_db

ROLES = ("admin", "manager", "customer_service", "warehouse")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def users():
    result = {}
    for role in ROLES:
        user = get_user_model().objects.create(username=role)
        user.groups.add(Group.objects.get(name=role))
        result[role] = user
    return result


@pytest.fixture
def w():
    sha = LocationFactory(code="sha", name="Shanghai DC")
    store = LocationFactory(code="store1", name="Store")
    a, b = ProductFactory(sku="SKU-A", name="Tea"), ProductFactory(sku="SKU-B", name="Cups")
    Bin.objects.create(location=sha, code="A-01-01", zone="A", pick_sequence=10)
    Bin.objects.create(location=sha, code="B-01-01", zone="B", pick_sequence=20)
    return {"sha": sha, "store": store, "a": a, "b": b}


# ---- the Stock.bin rule --------------------------------------------------------------------------


def test_a_stock_row_must_name_an_active_bin_where_the_location_has_bins(w):
    sha, a = w["sha"], w["a"]
    assert stock(sha, a, 5, bin="A-01-01").bin == "A-01-01"
    assert stock(sha, a, 1, bin="b-01-01").bin == "B-01-01"  # the bin's own spelling is stored
    before = (list(Stock.objects.values_list("bin", "on_hand")), StockMovement.objects.count())
    with pytest.raises(DomainError, match="sha has no bin 'Z-9'.*A-01-01, B-01-01"):
        stock(sha, a, 3, bin="Z-9")
    bins.bin_save(location=sha, data=bins.BinData(code="C-01-01", active=False))
    with pytest.raises(DomainError, match="bin 'C-01-01' at sha is deactivated"):
        stock(sha, w["b"], 3, bin="C-01-01")
    # nothing half-written: no quantity, no ledger row, no bin change
    assert (list(Stock.objects.values_list("bin", "on_hand")), StockMovement.objects.count()) == before
    assert stock(sha, w["b"], 2).bin == ""  # a blank bin is always fine


def test_a_location_without_bins_takes_any_pick_face(w):
    assert stock(w["store"], w["a"], 4, bin="shelf 3").bin == "shelf 3"


def test_assign_a_products_bin_validates_and_creates_the_row(w):
    row = bins.stock_bin_assign(location=w["sha"], product=w["b"], bin="B-01-01")
    assert (row.bin, row.on_hand) == ("B-01-01", 0)
    with pytest.raises(DomainError, match="no bin 'NOPE'"):
        bins.stock_bin_assign(location=w["sha"], product=w["b"], bin="NOPE")
    assert Stock.objects.get(location=w["sha"], product=w["b"]).bin == "B-01-01"
    assert bins.stock_bin_assign(location=w["sha"], product=w["b"], bin="").bin == ""


def test_bin_rules_unique_code_rename_moves_stock_and_no_deactivation_while_stocked(w):
    sha = w["sha"]
    with pytest.raises(DomainError, match="already has a bin 'a-01-01'"):
        bins.bin_save(location=sha, data=bins.BinData(code="a-01-01"))
    with pytest.raises(DomainError, match="only letters"):
        bins.bin_save(location=sha, data=bins.BinData(code="A 01"))
    stock(sha, w["a"], 5, bin="A-01-01")
    a1 = Bin.objects.get(location=sha, code="A-01-01")
    with pytest.raises(DomainError, match="still holds stock \\(SKU-A\\)"):
        bins.bin_set_active(bin=a1, active=False)
    renamed, outcome = bins.bin_save(location=sha, data=bins.BinData(code="A-01-02", zone="A", pick_sequence=5), bin=a1)
    assert (outcome, renamed.code, renamed.pick_sequence) == ("updated", "A-01-02", 5)
    assert Stock.objects.get(location=sha, product=w["a"]).bin == "A-01-02"
    same = bins.BinData(code="A-01-02", zone="A", pick_sequence=5)
    assert bins.bin_save(location=sha, data=same, bin=renamed)[1] == "unchanged"


# ---- pages ---------------------------------------------------------------------------------------


def test_bin_pages_check_their_permissions(client, w, users):
    sha = w["sha"]
    b1 = Bin.objects.get(code="A-01-01")
    pages = [
        ("/inventory/locations/sha/bins/", ROLES),
        ("/inventory/locations/sha/bins/new/", ("admin", "manager", "warehouse")),
        (f"/inventory/locations/sha/bins/{b1.pk}/edit/", ("admin", "manager", "warehouse")),
        ("/inventory/products/SKU-A/", ROLES),
    ]
    for url, allowed in pages:
        for role, user in users.items():
            client.force_login(user)
            assert client.get(url).status_code == (200 if role in allowed else 403), (url, role)
    client.force_login(users["customer_service"])
    assert client.post(f"/inventory/locations/sha/bins/{b1.pk}/active/", {"active": "0"}).status_code == 403
    r = client.post("/inventory/products/SKU-A/", {"location": "sha", "bin": "A-01-01"})
    assert r.status_code == 403
    assert Bin.objects.get(pk=b1.pk).active and not Stock.objects.filter(location=sha).exists()


def test_bins_page_lists_bins_in_pick_order_with_the_products_stocked_there(client, w, users):
    stock(w["sha"], w["a"], 7, bin="B-01-01")
    Stock.objects.create(location=w["sha"], product=w["b"], bin="OLD-7", on_hand=1)  # from before the bins
    client.force_login(users["customer_service"])
    body = client.get("/inventory/locations/sha/bins/").content.decode()
    assert body.index("A-01-01") < body.index("B-01-01")
    assert 'href="/inventory/products/SKU-A/">SKU-A</a> (7)' in body
    assert "OLD-7" in body and "not a bin here" in body
    assert "New bin" not in body  # customer service only looks
    client.force_login(users["warehouse"])
    assert "New bin" in client.get("/inventory/locations/sha/bins/").content.decode()
    assert "/inventory/locations/sha/bins/" in client.get("/inventory/locations/").content.decode()


def test_create_edit_deactivate_through_the_pages(client, w, users):
    client.force_login(users["warehouse"])
    r = client.post(
        "/inventory/locations/sha/bins/new/", {"code": "C-02-01", "zone": "C", "pick_sequence": 30, "active": "on"}
    )
    assert r.status_code == 302 and r["Location"] == "/inventory/locations/sha/bins/"
    c = Bin.objects.get(location=w["sha"], code="C-02-01")
    assert (c.zone, c.pick_sequence, c.active) == ("C", 30, True)
    r = client.post("/inventory/locations/sha/bins/new/", {"code": "c-02-01", "pick_sequence": 1})
    assert r.status_code == 400 and "already has a bin" in r.content.decode()
    assert Bin.objects.filter(location=w["sha"]).count() == 3
    r = client.post(
        f"/inventory/locations/sha/bins/{c.pk}/edit/",
        {"code": "C-02-09", "zone": "C", "pick_sequence": 31, "active": "on"},
    )
    assert r.status_code == 302
    c.refresh_from_db()
    assert (c.code, c.pick_sequence) == ("C-02-09", 31)
    stock(w["sha"], w["a"], 2, bin="C-02-09")
    r = client.post(f"/inventory/locations/sha/bins/{c.pk}/active/", {"active": "0"}, follow=True)
    assert r.status_code == 200 and "still holds stock" in r.content.decode()
    c.refresh_from_db()
    assert c.active
    b = Bin.objects.get(code="B-01-01")
    r = client.post(f"/inventory/locations/sha/bins/{b.pk}/active/", {"active": "0"}, follow=True)
    assert "Bin B-01-01 at sha deactivated." in r.content.decode()
    b.refresh_from_db()
    assert not b.active
    other = LocationFactory(code="other")
    assert client.get(f"/inventory/locations/other/bins/{b.pk}/edit/").status_code == 404
    assert other.bins.count() == 0


def test_assign_a_bin_on_the_product_page(client, w, users):
    client.force_login(users["warehouse"])
    page = client.get("/inventory/products/SKU-A/").content.decode()
    assert "Assign a bin" in page and '<option value="A-01-01">' in page
    r = client.post("/inventory/products/SKU-A/", {"location": "sha", "bin": "A-01-01"})
    assert r.status_code == 302
    assert Stock.objects.get(location=w["sha"], product=w["a"]).bin == "A-01-01"
    r = client.post("/inventory/products/SKU-A/", {"location": "sha", "bin": "Z-1"})
    assert r.status_code == 400 and "sha has no bin" in r.content.decode()
    assert Stock.objects.get(location=w["sha"], product=w["a"]).bin == "A-01-01"
    page = client.get("/inventory/products/SKU-A/").content.decode()
    assert "A-01-01" in page and "Shanghai DC" in page
    client.force_login(users["customer_service"])
    assert "Assign a bin" not in client.get("/inventory/products/SKU-A/").content.decode()
    assert 'href="/inventory/products/SKU-A/"' in client.get("/inventory/products/").content.decode()


def test_the_receive_page_shows_a_bad_bin_as_a_form_error(client, w, users):
    client.force_login(users["warehouse"])
    r = client.post("/inventory/stock/receive/", {"location": "sha", "sku": "SKU-A", "quantity": 5, "bin": "Q-1"})
    assert r.status_code == 400 and "sha has no bin" in r.content.decode()
    assert not Stock.objects.filter(on_hand__gt=0).exists()


# ---- import --------------------------------------------------------------------------------------


def test_import_bins_with_preview_and_row_errors(client, w, users, django_capture_on_commit_callbacks):
    client.force_login(users["warehouse"])
    stock(w["sha"], w["a"], 3, bin="A-01-01")
    text = (
        "location,code,zone,pick_sequence,active\n"
        "sha,A-01-01,A,15,yes\n"  # update
        "sha,D-01-01,D,40,\n"  # create (blank active: yes)
        "store1,S-1,,1,yes\n"  # create at another location
        "nowhere,X-1,,1,yes\n"  # unknown location
        "sha,bad code,,1,yes\n"  # invalid code
        "sha,D-01-02,D,-3,yes\n"  # negative sequence
        "sha,A-01-01,A,15,no\n"  # cannot deactivate: stocked
    )
    r = client.post("/imports/new/", {"kind": "bins", "file": SimpleUploadedFile("bins.csv", text.encode())})
    assert r.status_code == 302, r.content.decode()[-1500:]
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportStatus.PREVIEWED
    assert Bin.objects.count() == 2  # the preview wrote nothing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created, job.updated, job.rejected) == (2, 1, 4)
    messages = " | ".join(e["message"] for e in job.errors)
    assert "unknown location 'nowhere'" in messages
    assert "only letters" in messages and "must be 0 or more" in messages and "still holds stock" in messages
    assert sorted(Bin.objects.values_list("location__code", "code", "pick_sequence", "active")) == [
        ("sha", "A-01-01", 15, True),
        ("sha", "B-01-01", 20, True),
        ("sha", "D-01-01", 40, True),
        ("store1", "S-1", 1, True),
    ]
