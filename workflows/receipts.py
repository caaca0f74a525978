"""A stock receipt (the receive page, the receipts import): inventory takes the goods in, then orders releases the
presale orders waiting for that SKU, first paid first, up to the quantity received (orders/services/presale.py
``presale_receipt_release``, each through the presale release door with an event naming the receipt). One
transaction: the receipt and the releases it makes stand or fall together. A SKU that is not presale releases
nothing. The receipt also counts toward the product's expected presale batch: the receipts that together bring it
end the presale (``presale_receipt_unmark``). Inventory's receive page and import are given this action by
workflows (urls/inventory.py, apps.py), as inventory cannot import the layers above it."""

from django.db import transaction

from inventory.models import Location, MovementKind, Product, Stock, StockMovement
from inventory.services import stock_receive
from orders.services import presale_receipt_release, presale_receipt_unmark, presale_waiting_for


@transaction.atomic
def stock_receipt(*, location: Location, product: Product, quantity: int, user=None, **details) -> Stock:
    """``inventory.services.stock_receive`` (same arguments), then the presale releases it makes. The waiting
    orders are locked first (order rows before stock rows, as every workflow takes them)."""
    waiting = presale_waiting_for(product)
    stock = stock_receive(location=location, product=product, quantity=quantity, user=user, **details)
    movement = (
        StockMovement.objects.filter(location=location, product=product, kind=MovementKind.RECEIPT)
        .order_by("-pk")
        .first()
    )
    receipt = {
        "movement": movement.pk,
        "location": location.code,
        "sku": product.sku,
        "quantity": quantity,
        "reference": movement.reference,
    }
    stock.presale_released = presale_receipt_release(
        orders=waiting, product=product, quantity=quantity, receipt=receipt, user=user
    )
    # The receipt counts toward the expected batch; once the receipts bring all of it, the product is no longer
    # presale (its listings neither). ``presale_batch``: how far the batch is (the page says what is still expected).
    stock.presale_batch = presale_receipt_unmark(product=product, quantity=quantity, receipt=receipt, user=user)
    stock.presale_unmarked = stock.presale_batch.unmarked
    return stock
