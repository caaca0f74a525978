"""A service's refusal reads in the reader's language (issue 17): the DomainError texts the services word
through gettext reach a Chinese reader's staff page in Chinese (messages.error(request, str(exc))), an English
reader's page in the same English as before, and nothing changes on the order."""

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from fulfillment.routing_views import BEST_OTHER
from oms.roles import MANAGER
from orders.models import Order
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import make_user, presale_order, presale_world
from tests.orders.branch_catalogue import branch_chinese

pytestmark = pytest.mark.django_db

# (the page's address, its form, the order's status, Chinese, English); {n} the order number.
REFUSALS = [
    (
        "/orders/{n}/presale-release/",
        {"note": "early"},
        OrderStatus.CONFIRMED,
        "{n} 没有在等待预售发货日。",
        "{n} is not waiting for a presale day.",
    ),
    (
        "/orders/{n}/reclassify/",
        {},
        OrderStatus.CANCELLED,
        "订单 {n} 状态为{status}：已无法重新分类。",
        "Order {n} is Cancelled: too late to reclassify.",
    ),
    (
        "/orders/{n}/hold/",
        {"reason": HoldReason.values[0], "note": ""},
        OrderStatus.SHIPPED,
        "订单 {n} 状态为{status}，不能再挂起。",
        "Order {n} is Shipped and can no longer be held.",
    ),
    (
        "/fulfillment/routing/orders/{n}/reroute/",
        {"location": BEST_OTHER, "reason": "closer to the customer"},
        OrderStatus.CONFIRMED,
        "订单 {n} 没有可改派的未完成发货单。",
        "Order {n} has no open shipment to reroute.",
    ),
]
IDS = ["presale-release", "reclassify", "hold", "reroute"]


@pytest.fixture
def order():
    world = presale_world()
    return presale_order(world, "A", 9, lines=(("STD-1", 1),), waiting=False)


def _refused(client, order, action, form, status, language):
    Order.objects.filter(pk=order.pk).update(status=status)
    user = make_user("boss", MANAGER)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    client.cookies["django_language"] = language
    events = order.events.count()
    response = client.post(action.format(n=order.number), form, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == status  # refused: nothing changed
    assert order.events.count() == events
    assert order.events.filter(kind=EventKind.PRESALE).count() == 0
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(("action", "form", "status", "chinese", "english"), REFUSALS, ids=IDS)
def test_a_refused_action_reads_in_chinese_for_a_chinese_reader(
    client, order, tmp_path, action, form, status, chinese, english
):
    with branch_chinese(tmp_path, "china-errors.json"):
        with translation.override("zh-hans"):
            label = str(OrderStatus(status).label)
        assert not label.isascii()  # the status reads in Chinese too
        shown = _refused(client, order, action, form, status, "zh-hans")
    assert shown == [("error", chinese.format(n=order.number, status=label))]


@pytest.mark.parametrize(("action", "form", "status", "chinese", "english"), REFUSALS, ids=IDS)
def test_a_refused_action_reads_as_before_for_an_english_reader(
    client, order, tmp_path, action, form, status, chinese, english
):
    with branch_chinese(tmp_path, "china-errors.json"):
        shown = _refused(client, order, action, form, status, "en")
    assert shown == [("error", english.format(n=order.number))]
