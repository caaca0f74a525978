"""A stock receipt with a reference is received once per (location, product, reference): posted again (a double
click, a re-uploaded sheet, a retried request) it adds nothing and says so; another quantity under the same
reference is refused with nothing written; a receipt without a reference adds every time (as before)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from inventory import services
from inventory.models import Stock, StockMovement, StockReceipt
from oms.errors import DomainError
from oms.roles import WAREHOUSE
from tests.factories import LocationFactory, ProductFactory, make_user, stock
from tests.orders.branch_catalogue import branch_chinese
from workflows.receipts import stock_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    sha, can = LocationFactory(code="sha"), LocationFactory(code="can")
    a, b = ProductFactory(sku="SKU-A"), ProductFactory(sku="SKU-B")
    stock(sha, a, 10)
    return {"sha": sha, "can": can, "a": a, "b": b}


def state():
    return sorted(Stock.objects.values_list("location__code", "product__sku", "on_hand", "reserved")), sorted(
        StockMovement.objects.values_list("location__code", "product__sku", "kind", "on_hand_delta", "reference")
    )


def ledger_holds():
    out = io.StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue()


def when(receipt: StockReceipt) -> str:
    return timezone.localtime(receipt.created_at).strftime("%Y-%m-%d %H:%M")


def test_a_receipt_posted_again_adds_nothing_and_says_so(w):
    first = stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")
    assert (first.on_hand, first.already_received) == (15, "")
    before = state()

    again = stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")

    receipt = StockReceipt.objects.get()
    assert again.on_hand == 15
    assert again.already_received == (
        f"Receipt R-1 of SKU-A at sha was already received on {when(receipt)} (5): nothing added."
    )
    assert again.presale_released == []
    assert state() == before
    assert (receipt.quantity, receipt.movement.on_hand_delta) == (5, 5)
    assert "Stock matches the ledger" in ledger_holds()


def test_inventorys_own_receive_is_once_too(w):
    services.stock_receive(location=w["sha"], product=w["a"], quantity=3, reference="R-9")
    again = services.stock_receive(location=w["sha"], product=w["a"], quantity=3, reference=" R-9 ")
    assert again.on_hand == 13 and again.already_received.startswith("Receipt R-9 of SKU-A at sha was already")
    assert StockMovement.objects.filter(kind="receipt", reference="R-9").count() == 1


def test_another_quantity_under_the_same_reference_is_refused_and_writes_nothing(w):
    stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")
    receipt = StockReceipt.objects.get()
    before = state()

    with pytest.raises(DomainError) as exc:
        stock_receipt(location=w["sha"], product=w["a"], quantity=7, reference="R-1")

    assert str(exc.value) == (
        f"Receipt R-1 of SKU-A at sha was already received with 5 on {when(receipt)}; 7 under the same reference "
        "is refused, nothing was added. Use a new reference for another delivery."
    )
    assert state() == before and StockReceipt.objects.count() == 1


def test_the_same_reference_at_another_location_or_for_another_product_is_its_own_receipt(w):
    stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")
    other_place = stock_receipt(location=w["can"], product=w["a"], quantity=2, reference="R-1")
    other_sku = stock_receipt(location=w["sha"], product=w["b"], quantity=4, reference="R-1")
    assert (other_place.on_hand, other_place.already_received) == (2, "")
    assert (other_sku.on_hand, other_sku.already_received) == (4, "")
    assert StockReceipt.objects.count() == 3
    assert "Stock matches the ledger" in ledger_holds()


def test_a_receipt_without_a_reference_adds_every_time(w):
    stock_receipt(location=w["sha"], product=w["a"], quantity=2)
    again = stock_receipt(location=w["sha"], product=w["a"], quantity=2)
    assert (again.on_hand, again.already_received) == (14, "")
    assert StockMovement.objects.filter(kind="receipt", reason="").count() == 2  # the fixture's has a reason
    assert not StockReceipt.objects.exists()


def test_the_receive_page_posted_twice_adds_once_and_says_so(client, w):
    client.force_login(make_user("wh", WAREHOUSE))
    data = {"location": "sha", "sku": "SKU-A", "quantity": 5, "reference": "R-1", "reason_code": "purchase"}
    first = client.post("/inventory/stock/receive/", data, follow=True)
    assert [str(m) for m in first.context["messages"]] == ["Received 5 × SKU-A at sha."]

    response = client.post("/inventory/stock/receive/", data, follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        f"Receipt R-1 of SKU-A at sha was already received on {when(StockReceipt.objects.get())} (5): nothing added."
    ]
    assert state()[0] == [("sha", "SKU-A", 15, 0)]

    response = client.post("/inventory/stock/receive/", {**data, "quantity": 6})
    assert response.status_code == 400
    assert "6 under the same reference is refused, nothing was added" in response.content.decode()
    assert state()[0] == [("sha", "SKU-A", 15, 0)]


def test_a_receipts_sheet_uploaded_again_adds_nothing(client, w, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(make_user("wh", WAREHOUSE))
    content = b"location,sku,quantity,reference\nsha,SKU-A,5,R-1\ncan,SKU-B,3,R-2\nsha,SKU-A,2,\n"

    def upload():
        response = client.post(
            "/inventory/stock/import/", {"kind": "receipts", "file": SimpleUploadedFile("r.csv", content)}
        )
        return client.post("/inventory/stock/import/", {"kind": "receipts", "token": response.context["token"]})

    upload()
    assert state()[0] == [("can", "SKU-B", 3, 0), ("sha", "SKU-A", 17, 0)]
    body = upload().content.decode()
    assert "Receipt R-1 of SKU-A at sha was already received on" in body
    assert "Receipt R-2 of SKU-B at can was already received on" in body
    assert state()[0] == [("can", "SKU-B", 3, 0), ("sha", "SKU-A", 19, 0)]  # only the row without a reference
    assert "Stock matches the ledger" in ledger_holds()


def test_the_background_import_counts_a_receipt_received_before_as_a_duplicate(w):
    from inventory.importers import OpeningStockResource, ResourceImporter
    from inventory.resources import RESOURCES

    importer = ResourceImporter(RESOURCES["receipts"])
    args = {"location": w["sha"], "product": w["a"], "quantity": 5, "reference": "R-1"}
    assert importer.apply(dict(args), user=None) == "created"
    assert importer.apply(dict(args), user=None) == "unchanged"
    assert Stock.objects.get(location=w["sha"], product=w["a"]).on_hand == 15

    # Opening balances without a reference of their own add as before (their default reference is not a receipt's)
    opening = ResourceImporter(OpeningStockResource())
    from inventory.resources import Lookups

    row = {"location": "can", "sku": "SKU-B", "quantity": "4"}
    for _ in range(2):
        assert opening.apply(OpeningStockResource().parse(row, Lookups([row])), user=None) == "created"
    assert Stock.objects.get(location=w["can"], product=w["b"]).on_hand == 8


def test_the_already_received_message_in_chinese(w, tmp_path):
    stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")
    at = when(StockReceipt.objects.get())
    with branch_chinese(tmp_path, "receipts-once.json"), translation.override("zh-hans"):
        again = stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")
        with pytest.raises(DomainError) as exc:
            stock_receipt(location=w["sha"], product=w["a"], quantity=7, reference="R-1")
    assert again.already_received == f"入库单 R-1（SKU-A，sha）已于 {at} 入库（5 件）：本次未增加库存。"
    assert str(exc.value) == (
        f"入库单 R-1（SKU-A，sha）已于 {at} 以 5 件入库；同一单号下的 7 件被拒绝，未增加任何库存。"
        "另一批到货请使用新的单号。"
    )


def test_the_migration_takes_earlier_receipts_as_received_once(w):
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("inventory.migrations.0006_receipts_once").backfill
    # Before the migration: a receipt posted twice under R-1 (both added), one under R-2, an opening balance
    for quantity in (5, 5):
        services.stock_receive(location=w["sha"], product=w["a"], quantity=quantity, reference="R-1", once=False)
    services.stock_receive(location=w["can"], product=w["b"], quantity=3, reference="R-2", once=False)
    services.stock_receive(
        location=w["can"], product=w["a"], quantity=4, reference="opening stock", reason_code="opening", once=False
    )
    first = StockMovement.objects.filter(reference="R-1").order_by("pk").first()
    assert not StockReceipt.objects.exists()

    backfill(apps, None)

    rows = StockReceipt.objects.order_by("reference").values_list(
        "location__code", "product__sku", "reference", "quantity", "movement", "created_at"
    )
    r2 = StockMovement.objects.get(reference="R-2")
    assert list(rows) == [
        ("sha", "SKU-A", "R-1", 5, first.pk, first.created_at),
        ("can", "SKU-B", "R-2", 3, r2.pk, r2.created_at),
    ]
    again = stock_receipt(location=w["sha"], product=w["a"], quantity=5, reference="R-1")
    assert again.on_hand == 20 and again.already_received.endswith("(5): nothing added.")


def test_a_receipt_row_is_written_once_with_its_ledger_row(w):
    """The receipt row goes in after its movement, pointing at it: one INSERT, no UPDATE to fill it in after."""
    table = StockReceipt._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        services.stock_receive(location=w["sha"], product=w["a"], quantity=5, reference="R-9")

    touching = [q["sql"].split()[0].upper() for q in queries.captured_queries if table in q["sql"]]
    assert touching == ["SELECT", "INSERT"]
    receipt = StockReceipt.objects.get()
    assert receipt.movement == StockMovement.objects.get(reference="R-9")
