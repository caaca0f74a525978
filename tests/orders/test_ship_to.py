"""One reading of an order's ship-to address (``orders.selectors.order_ship_to``), used by the exchange of a return
(orders/care/returns.py) and by a label's recipient (logistics/dispatch.py)."""

from orders.models import Order
from orders.selectors import order_ship_to

ADDRESS = {
    "name": "张伟",
    "phone": "13800138000",
    "email": "zw@example.com",
    "country": "CN",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "address1": "科技园 1 号",
    "address2": "3 楼",
    "postcode": "518057",
}


def test_every_ship_to_column_and_nothing_else():
    order = Order(**{f"ship_{name}": value for name, value in ADDRESS.items()}, external_id="X-1")
    assert order_ship_to(order) == ADDRESS
    columns = {f.name.removeprefix("ship_") for f in Order._meta.fields if f.name.startswith("ship_")}
    assert set(order_ship_to(order)) == columns  # a new ship_* column is read too


def test_a_label_recipient_leaves_the_email_out():
    order = Order(**{f"ship_{name}": value for name, value in ADDRESS.items()})
    assert order_ship_to(order, email=False) == {k: v for k, v in ADDRESS.items() if k != "email"}
