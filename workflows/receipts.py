"""A stock receipt (the receive page, the receipts import): inventory takes the goods in, then orders releases the
presale orders waiting for that SKU, first paid first, up to the quantity received (orders/services/presale.py
``presale_receipt_release``, each through the presale release door with an event naming the receipt). One
transaction: the receipt and the releases it makes stand or fall together. A SKU that is not presale releases
nothing. The receipt also counts toward the product's expected presale batch: the receipts that together bring it
end the presale (``presale_receipt_unmark``). A receipt posted again under its reference adds nothing and
releases nothing (``stock_receive``: once per location, product and reference). Inventory's receive page and
import are given this action by workflows (urls/inventory.py, apps.py), as inventory cannot import the layers
above it."""

from django.db import transaction

from inventory.models import Location, Product, Stock
from inventory.services import stock_receive
from orders.services import presale_receipt_release, presale_receipt_unmark, presale_waiting_for


@transaction.atomic
def stock_receipt(*, location: Location, product: Product, quantity: int, user=None, **details) -> Stock:
    """``inventory.services.stock_receive`` (same arguments), then the presale releases it makes. The waiting
    orders are locked first (order rows before stock rows, as every workflow takes them)."""
    waiting = presale_waiting_for(product)
    stock = stock_receive(location=location, product=product, quantity=quantity, user=user, **details)
    movement = stock.movement  # the receipt's ledger row (posted again: the first post's)
    receipt = {
        "movement": getattr(movement, "pk", None),
        "location": location.code,
        "sku": product.sku,
        "quantity": quantity,
        "reference": getattr(movement, "reference", details.get("reference", "")),
    }
    # Posted again under its reference: nothing came in, so nothing is released (the batch counts it once).
    stock.presale_released = (
        []
        if stock.already_received
        else presale_receipt_release(orders=waiting, product=product, quantity=quantity, receipt=receipt, user=user)
    )
    # The receipt counts toward the expected batch; once the receipts bring all of it, the product is no longer
    # presale (its listings neither). ``presale_batch``: how far the batch is (the page says what is still expected).
    stock.presale_batch = presale_receipt_unmark(product=product, quantity=quantity, receipt=receipt, user=user)
    stock.presale_unmarked = stock.presale_batch.unmarked
    return stock
