"""Webhook adapters per channel platform (Channel.platform): each has ``verify_signature(body,
headers, secret)`` (raises signing.SignatureInvalid), ``topic(headers, body)`` ('create',
'update', 'ping' or '' for a topic we ignore) and ``parse(body) -> CanonicalOrder``.

Orders a connector pulls from a platform's API (connectors/) are stored as source ``pull:<platform>`` and
read by the adapter in ``PULLS`` (the same three functions; nothing to verify)."""

from . import amazon_pull, doudian_pull, shopify_graphql, shopify_json, woocommerce_json, woocommerce_pull

WEBHOOKS = {"shopify": shopify_json, "woocommerce": woocommerce_json}
PULLS = {
    "shopify": shopify_graphql,
    "woocommerce": woocommerce_pull,
    "doudian": doudian_pull,
    "amazon": amazon_pull,
}


def source_adapter(source: str):
    """The adapter that reads messages of ``source`` ('webhook:shopify', 'pull:shopify'), or None."""
    kind, _, name = source.partition(":")
    return {"webhook": WEBHOOKS, "pull": PULLS}.get(kind, {}).get(name)
