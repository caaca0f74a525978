"""The inventory pages: permissions, each action through its form, errors as messages (never a
500, nothing changed), the spreadsheet import with its dry run, and the exports."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Stock, StockMovement, Transfer
from inventory.services import StockRequest, stock_reserve, stock_rule_set
from tests.factories import LocationFactory, ProductFactory, stock

pytestmark = pytest.mark.django_db

ROLES = ("admin", "manager", "customer_service", "warehouse")


def role_users() -> dict:
    """One user per role, without a password (no slow hashing: tests log in with force_login)."""
    users = {}
    for role in ROLES:
        user = get_user_model().objects.create(username=role)
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    return users


PAGES = [
    ("/inventory/stock/receive/", ("admin", "manager", "warehouse")),
    ("/inventory/stock/adjust/", ("admin", "manager", "warehouse")),
    ("/inventory/stock/count/", ("admin", "manager", "warehouse")),
    ("/inventory/stock/write-off/", ("admin", "manager", "warehouse")),
    ("/inventory/stock/import/", ("admin", "manager", "warehouse")),
    ("/inventory/ledger/", ("admin", "manager", "customer_service", "warehouse")),
    ("/inventory/transfers/", ("admin", "manager", "customer_service", "warehouse")),
    ("/inventory/transfers/new/", ("admin", "manager", "warehouse")),
    ("/inventory/rules/", ("admin", "manager")),
    ("/inventory/rules/edit/", ("admin", "manager")),
    ("/inventory/replenishment/", ("admin", "manager")),
    ("/inventory/low-stock/", ("admin", "manager", "customer_service", "warehouse")),
    ("/orders/channels/stock/", ("admin", "manager", "customer_service")),
]


@pytest.fixture
def w():
    sha, can = LocationFactory(code="sha"), LocationFactory(code="can")
    a = ProductFactory(sku="SKU-A")
    stock(sha, a, 10)
    return {"sha": sha, "can": can, "a": a, "users": role_users()}


def state():
    return sorted(Stock.objects.values_list("location__code", "product__sku", "on_hand", "reserved")), (
        StockMovement.objects.count()
    )


@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_each_page_checks_its_permission(client, w, url, allowed):
    for role, user in w["users"].items():
        client.force_login(user)
        assert client.get(url).status_code == (200 if role in allowed else 403), (url, role)


def test_receive_adjust_count_and_write_off_through_the_pages(client, w):
    client.force_login(w["users"]["warehouse"])
    r = client.post(
        "/inventory/stock/receive/",
        {"location": "sha", "sku": "SKU-A", "quantity": 5, "reference": "PO-7", "reason_code": "purchase"},
    )
    assert r.status_code == 302
    client.post(
        "/inventory/stock/adjust/",
        {"location": "sha", "sku": "SKU-A", "delta": -2, "reason": "torn", "reason_code": "damaged"},
    )
    client.post("/inventory/stock/count/", {"location": "sha", "sku": "SKU-A", "counted": 12})
    client.post(
        "/inventory/stock/write-off/",
        {"location": "sha", "sku": "SKU-A", "quantity": 1, "reason_code": "expired", "reason": "best before"},
    )
    assert state()[0] == [("sha", "SKU-A", 11, 0)]
    kinds = list(
        StockMovement.objects.order_by("id").values_list("kind", "on_hand_delta", "reason_code", "user__username")
    )
    assert kinds[1:] == [
        ("receipt", 5, "purchase", "warehouse"),
        ("adjustment", -2, "damaged", "warehouse"),
        ("count", -1, "count", "warehouse"),
        ("write_off", -1, "expired", "warehouse"),
    ]


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("/inventory/stock/receive/", {"location": "sha", "sku": "NOPE", "quantity": 1}, "Unknown SKU"),
        ("/inventory/stock/receive/", {"location": "mars", "sku": "SKU-A", "quantity": 1}, "Select a valid choice"),
        ("/inventory/stock/receive/", {"location": "sha", "sku": "SKU-A", "quantity": -4}, "more than zero"),
        ("/inventory/stock/count/", {"location": "sha", "sku": "SKU-A", "counted": -1}, "cannot be negative"),
        ("/inventory/stock/count/", {"location": "sha", "sku": "SKU-A", "counted": 2}, "3 are reserved"),
        (
            "/inventory/stock/adjust/",
            {"location": "sha", "sku": "SKU-A", "delta": -8, "reason": "x"},
            "below what is reserved",
        ),
        (
            "/inventory/transfers/new/",
            {"from_location": "sha", "to_location": "sha", "lines": "SKU-A 1"},
            "two different locations",
        ),
        (
            "/inventory/transfers/new/",
            {"from_location": "sha", "to_location": "can", "lines": "SKU-Z 1"},
            "unknown SKU",
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(client, w, url, data, message):
    stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 3)], reference="O1")
    client.force_login(w["users"]["manager"])
    before = state()
    response = client.post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert state() == before and not Transfer.objects.exists()


def test_transfer_pages_dispatch_and_receive(client, w):
    client.force_login(w["users"]["warehouse"])
    response = client.post(
        "/inventory/transfers/new/", {"from_location": "sha", "to_location": "can", "lines": "SKU-A 4\n"}
    )
    transfer = Transfer.objects.get()
    assert response["Location"] == f"/inventory/transfers/{transfer.number}/"
    body = client.get(f"/inventory/transfers/{transfer.number}/").content.decode()
    assert "In transit" in body and "Receive at can" in body
    client.post(f"/inventory/transfers/{transfer.number}/receive/")
    assert state()[0] == [("can", "SKU-A", 4, 0), ("sha", "SKU-A", 6, 0)]
    client.post(f"/inventory/transfers/{transfer.number}/receive/")  # twice: a message, not a 500
    assert state()[0] == [("can", "SKU-A", 4, 0), ("sha", "SKU-A", 6, 0)]


def test_import_dry_run_shows_row_errors_and_confirm_imports_only_good_rows(client, w, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 8)], reference="O1")
    client.force_login(w["users"]["warehouse"])
    content = (
        b"location,sku,counted,reference\n"
        b"sha,SKU-A,9,C1\n"
        b"sha,SKU-NOPE,3,C1\n"
        b"mars,SKU-A,3,C1\n"
        b"can,SKU-A,-2,C1\n"
        b"can,SKU-A,x,C1\n"
        b"can,SKU-A,5,C1\n"
    )
    before = state()
    upload = SimpleUploadedFile("counts.csv", content, content_type="text/csv")
    response = client.post("/inventory/stock/import/", {"kind": "counts", "file": upload})
    body = response.content.decode()
    assert "2 rows would be imported, 4 rejected" in body
    for error in (
        "unknown SKU &#x27;SKU-NOPE&#x27;",
        "unknown location &#x27;mars&#x27;",
        "cannot be negative",
        "&#x27;x&#x27; is not a number",
    ):
        assert error in body
    assert state() == before  # the dry run wrote nothing
    token = response.context["token"]
    response = client.post("/inventory/stock/import/", {"kind": "counts", "token": token})
    assert "Done: 2 imported, 4 rejected" in response.content.decode()
    assert state()[0] == [("can", "SKU-A", 5, 0), ("sha", "SKU-A", 9, 8)]


def test_import_of_a_count_below_reserved_is_caught_in_the_dry_run(client, w, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 8)], reference="O1")
    client.force_login(w["users"]["warehouse"])
    upload = SimpleUploadedFile("c.csv", b"location,sku,counted\nsha,SKU-A,7\n", content_type="text/csv")
    response = client.post("/inventory/stock/import/", {"kind": "counts", "file": upload})
    assert "counted 7 but 8 are reserved" in response.content.decode()
    assert response.context["token"] == ""


def test_import_transfers_are_grouped_and_all_or_nothing(client, w, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    b = ProductFactory(sku="SKU-B")
    stock(w["sha"], b, 2)
    client.force_login(w["users"]["manager"])
    content = (
        b"from_location,to_location,sku,quantity,reference\n"
        b"sha,can,SKU-A,3,T1\n"
        b"sha,can,SKU-B,1,T1\n"
        b"sha,can,SKU-A,2,T2\n"
        b"sha,can,SKU-B,5,T2\n"  # short: T2 is refused whole
    )
    response = client.post(
        "/inventory/stock/import/", {"kind": "transfers", "file": SimpleUploadedFile("t.csv", content)}
    )
    client.post("/inventory/stock/import/", {"kind": "transfers", "token": response.context["token"]})
    transfer = Transfer.objects.get()
    assert transfer.note == "T1"
    assert sorted(transfer.lines.values_list("product__sku", "quantity")) == [("SKU-A", 3), ("SKU-B", 1)]
    assert state()[0] == [("sha", "SKU-A", 7, 0), ("sha", "SKU-B", 1, 0)]


def test_import_reads_xlsx(client, w, settings, tmp_path):
    import tablib

    settings.MEDIA_ROOT = tmp_path
    data = tablib.Dataset(headers=["location", "sku", "quantity", "reference"])
    data.append(["can", "SKU-A", 7, "PO-1"])
    client.force_login(w["users"]["warehouse"])
    upload = SimpleUploadedFile("r.xlsx", data.export("xlsx"))
    response = client.post("/inventory/stock/import/", {"kind": "receipts", "file": upload})
    client.post("/inventory/stock/import/", {"kind": "receipts", "token": response.context["token"]})
    assert ("can", "SKU-A", 7, 0) in state()[0]


def test_replenishment_page_and_export(client, w):
    client.force_login(w["users"]["manager"])
    assert client.get("/inventory/replenishment/?all=1").status_code == 200
    response = client.get("/inventory/replenishment/?all=1&_export=csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("Location,SKU,Product,Available")
    assert lines[1].startswith("sha,SKU-A,")
    assert client.get("/inventory/replenishment/?_export=xlsx")["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )


def test_low_stock_page_lists_alerts(client, w):
    stock_rule_set(location=w["sha"], product=w["a"], low_stock_threshold=10)
    client.force_login(w["users"]["warehouse"])
    body = client.get("/inventory/low-stock/").content.decode()
    assert "available 10 ≤ threshold 10" in body
