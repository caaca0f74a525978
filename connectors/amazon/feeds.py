"""Amazon's Feeds API 2021-06-30, the one way in and out for every feed the connector sends (the stock's
``JSON_LISTINGS_FEED``, the cancellations' ``POST_ORDER_ACKNOWLEDGEMENT_DATA``):

- ``feed_submit``: ``createFeedDocument`` (its content type) -> PUT the document to the pre-signed ``url`` ->
  ``createFeed`` with the feed type, the connection's marketplaces and the document id; returns the feed id;
- ``feed_report``: a finished feed's processing report (``getFeedDocument`` -> GET its ``url``, gunzipped when
  ``compressionAlgorithm`` is GZIP) as bytes; a report that does not unzip raises ``OSError`` (the caller says
  what that means for its feed)."""

from __future__ import annotations

import gzip

from ..base import Transient
from .client import AmazonApi

FEEDS = "/feeds/2021-06-30"


def feed_submit(api: AmazonApi, *, feed_type: str, content_type: str, document: bytes) -> str:
    created = api.feeds._request(
        f"{FEEDS}/documents", data={"method": "POST", "contentType": content_type}, add_marketplace=False
    ).payload
    if not (created.get("feedDocumentId") and created.get("url")):
        raise Transient("Amazon created no feed document (no feedDocumentId or url).")
    api.upload(created["url"], document, content_type)
    feed = api.feeds._request(
        f"{FEEDS}/feeds",
        data={
            "method": "POST",
            "feedType": feed_type,
            "marketplaceIds": api.marketplace_ids,
            "inputFeedDocumentId": created["feedDocumentId"],
        },
        add_marketplace=False,
    ).payload
    return str(feed.get("feedId") or "")


def feed_report(api: AmazonApi, document_id: str) -> bytes:
    doc = api.feeds._request(
        f"{FEEDS}/documents/{document_id}", params={"method": "GET"}, add_marketplace=False
    ).payload
    raw = api.download(doc.get("url") or "")
    if str(doc.get("compressionAlgorithm") or "").upper() == "GZIP":
        raw = gzip.decompress(raw)
    return raw
