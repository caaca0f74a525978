"""Returns: to stock (ledger rows), damaged written off, refund, exchange as a linked order."""

from decimal import Decimal

import pytest
from django.core import mail

from inventory.models import Stock, StockMovement
from oms.errors import DomainError, TransitionNotAllowed
from orders.care import returns
from orders.models import ReturnRequest
from tests import journey
from tests.orders import care

pytestmark = pytest.mark.django_db


def stock_row(order):
    line = order.lines.get()
    return Stock.objects.get(product=line.product, location__code="sha")


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    return care.delivered(django_capture_on_commit_callbacks, external_id="R1")


def make_return(order, quantity, **kw):
    line = order.lines.get()
    return returns.return_create(order=order, lines={line.pk: quantity}, reason="damaged", **kw)


def test_a_return_is_received_to_stock_sellable_back_on_hand_damaged_written_off(
    delivered, django_capture_on_commit_callbacks
):
    before = stock_row(delivered)
    with django_capture_on_commit_callbacks(execute=True):
        ret = make_return(delivered, 1)
    assert (ret.number, ret.status, ret.location.code) == (f"RMA{100000 + ret.pk}", "requested", "sha")
    rl = ret.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        returns.return_receive(ret=ret, received={rl.pk: (1, 0)})
    after = stock_row(delivered)
    assert (after.on_hand - before.on_hand, after.reserved - before.reserved) == (1, 0)
    rows = list(
        StockMovement.objects.filter(reference=ret.number)
        .order_by("id")
        .values_list("kind", "on_hand_delta", "reason_code")
    )
    assert rows == [("return_restock", 1, "customer_return")]
    ret.refresh_from_db()
    assert (ret.status, rl.__class__.objects.get(pk=rl.pk).sellable) == ("received", 1)
    assert [n.context["step"] for n in delivered.notifications.filter(kind="return").order_by("id")] == [
        "requested",
        "received",
    ]


def test_damaged_units_come_back_and_are_written_off(django_capture_on_commit_callbacks):
    journey.world()
    with django_capture_on_commit_callbacks(execute=True):
        order = journey.order_through(django_capture_on_commit_callbacks, "shipped", external_id="R2")
    from orders.models import OrderLine

    assert OrderLine.objects.get(order=order).quantity == 1
    parcel = order.shipments.get().parcels.get()
    care.record(django_capture_on_commit_callbacks, parcel, "delivered", 600)
    before = stock_row(order).on_hand
    ret = make_return(order, 1)
    returns.return_receive(ret=ret, received={ret.lines.get().pk: (0, 1)})
    rows = list(
        StockMovement.objects.filter(reference=ret.number)
        .order_by("id")
        .values_list("kind", "on_hand_delta", "reason_code")
    )
    assert rows == [("return_restock", 1, "customer_return"), ("write_off", -1, "damaged")]
    assert stock_row(order).on_hand == before


def test_receiving_more_than_came_back_or_twice_changes_nothing(delivered):
    ret = make_return(delivered, 1)
    rl = ret.lines.get()
    count = StockMovement.objects.count()
    with pytest.raises(DomainError, match="at most 1 came back"):
        returns.return_receive(ret=ret, received={rl.pk: (1, 1)})
    assert StockMovement.objects.count() == count
    assert ReturnRequest.objects.get(pk=ret.pk).status == "requested"
    returns.return_receive(ret=ret, received={rl.pk: (1, 0)})
    with pytest.raises(TransitionNotAllowed):
        returns.return_receive(ret=ret, received={rl.pk: (1, 0)})
    assert StockMovement.objects.count() == count + 1


def test_a_return_before_delivery_is_refused(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    with pytest.raises(TransitionNotAllowed, match="once it is delivered"):
        make_return(order, 1)
    assert ReturnRequest.objects.count() == 0


def test_refund_is_recorded_and_closes_the_return(delivered, django_capture_on_commit_callbacks):
    ret = make_return(delivered, 1)
    with pytest.raises(DomainError, match="between 0 and the order's total"):
        returns.return_refund(ret=ret, amount=Decimal("999"))
    with django_capture_on_commit_callbacks(execute=True):
        returns.return_refund(ret=ret, amount=Decimal("10.00"))
    ret.refresh_from_db()
    assert (ret.status, ret.refund_amount, ret.resolution) == ("refunded", Decimal("10.00"), "refund")
    notice = delivered.notifications.get(kind="return", context__step="refunded")
    assert "10.00 CNY" in notice.body_text
    with pytest.raises(TransitionNotAllowed):
        returns.return_exchange(ret=ret)


def test_exchange_creates_a_linked_order_for_the_same_items(delivered, django_capture_on_commit_callbacks):
    ret = make_return(delivered, 1, resolution="exchange")
    with django_capture_on_commit_callbacks(execute=True):
        new = returns.return_exchange(ret=ret)
    ret.refresh_from_db()
    new.refresh_from_db()
    assert (ret.status, ret.exchange_order, new.exchange_for) == ("exchanged", new, ret)
    assert new.pk != delivered.pk and new.channel == delivered.channel
    assert new.external_id == f"{delivered.external_id}-{ret.number}"
    assert list(new.lines.values_list("sku", "quantity", "unit_price")) == [("SKU-A", 1, Decimal("0.00"))]
    assert (new.customer, new.ship_city, new.total) == (delivered.customer, "Shanghai", Decimal("0.00"))
    assert new.status == "allocated"  # confirmed and routed like any order
    assert new.events.filter(kind="note", data__exchange_for=delivered.number).count() == 1
    assert delivered.events.filter(kind="return", data__step="exchanged", data__exchange_order=new.number).count() == 1
    assert any(f"换货订单 {new.number} 已创建" in m.body for m in mail.outbox)  # ship-to CN: Chinese
