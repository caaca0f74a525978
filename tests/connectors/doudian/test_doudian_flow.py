"""The whole way for 抖店 (issue 16 "Done means"): an order pulled from the platform is routed, packed and
shipped here, and 抖店 is told of the waybill once; transport failures of the platform retry."""

import pytest
from django.utils import timezone

from connectors import services
from connectors.base import RetryLater, Transient
from connectors.doudian.adapter import client_for
from connectors.models import ChannelConnection
from orders.models import Order

from ..conftest import dispatch, ship, shipment_rows
from ..fake_doudian import shop_order

pytestmark = pytest.mark.django_db


def test_a_pulled_order_shipped_here_is_confirmed_on_the_platform_once(
    dd, dd_world, django_capture_on_commit_callbacks
):
    dd.add_order(shop_order("6920000000000000042", updated=int(timezone.now().timestamp()) - 120))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connection_pull(connection_id=dd_world["connection"].pk) == 1
    order = Order.objects.get(external_id="6920000000000000042")
    shipment = order.shipments.get()

    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)

    assert dd.api_calls("order.logisticsAdd") == [
        {"order_id": "6920000000000000042", "company_code": "zhongtong", "logistics_code": parcel.tracking_number}
    ]
    assert dd.orders["6920000000000000042"]["order_status"] == 3
    assert shipment_rows() == [("sent", 1, "")]
    dispatch(later_seconds=3600)
    assert len(dd.api_calls("order.logisticsAdd")) == 1
    connection = ChannelConnection.objects.get()
    assert (connection.last_confirm_error, connection.last_confirm_ok_at is not None) == ("", True)


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RetryLater), (502, Transient)],
)
def test_http_failures_of_the_gateway_retry(dd, dd_world, status, error):
    dd.fail("/order/searchList", status, b"busy", {"Content-Type": "text/plain"})
    with pytest.raises(error):
        client_for(ChannelConnection.objects.get()).call("order.searchList", {"page": 0})


def test_a_body_that_is_not_json_retries(dd, dd_world):
    dd.fail("/order/searchList", 200, b"<html>gateway</html>", {"Content-Type": "text/html"})
    with pytest.raises(Transient, match="not JSON"):
        client_for(ChannelConnection.objects.get()).call("order.searchList", {"page": 0})
