"""Orders pulled from WooCommerce's REST API (``GET /wp-json/wc/v3/orders``) to canonical orders.

A pulled order is stored raw in the order inbox as source ``pull:woocommerce`` (one message per order object,
as WooCommerce sent it) and applied like an ``order.updated`` webhook: created when new, else the channel's
update of the order (a replay changes nothing). The REST order object is the webhook's body, so it is read by
the webhook's parser and a pulled order and its webhook are one order (``id`` is the external id). Nothing
is signed (we fetched it ourselves with our key), so ``verify_signature`` accepts everything.
"""

from .bodies import pulled_signature as verify_signature  # noqa: F401 (the adapter's interface)
from .bodies import pulled_topic as topic  # noqa: F401
from .woocommerce_json import parse, parse_order  # noqa: F401 (the webhook's parser)
