"""Tracking providers: pure adapters that turn a provider's push or poll payload into
`NormalizedEvent`s in our one status set (`logistics.status.TrackingStatus`).

Nothing here touches the database. Storing the raw message, looking up the parcel and
writing `TrackingEvent` rows (deduplicated on `dedupe_key`) is the caller's job.
"""

from .base import NormalizedEvent, PayloadInvalid, SignatureInvalid, make_dedupe_key

__all__ = ["NormalizedEvent", "PayloadInvalid", "SignatureInvalid", "make_dedupe_key"]
