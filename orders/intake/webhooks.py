"""Webhook adapters per channel platform (Channel.platform): each has ``verify_signature(body,
headers, secret)`` (raises signing.SignatureInvalid), ``topic(headers, body)`` ('create',
'update', 'ping' or '' for a topic we ignore) and ``parse(body) -> CanonicalOrder``."""

from . import shopify_json, woocommerce_json

WEBHOOKS = {"shopify": shopify_json, "woocommerce": woocommerce_json}
