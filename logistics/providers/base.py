"""What every tracking provider produces: `NormalizedEvent`, and the two ways a push can be refused.

A provider adapter is pure: bytes and headers in, `NormalizedEvent`s out (or an exception).
The caller stores the raw message first, then records each event on the parcel with
`TrackingEvent(parcel, dedupe_key)` unique, so a replayed push, a late push or a push that
repeats the whole history changes nothing the second time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from logistics.status import TrackingStatus

# Field sizes of `logistics.models.TrackingEvent`; adapters cut their text to fit so a caller can save as is.
DESCRIPTION_MAX = 255
LOCATION_MAX = 120


class SignatureInvalid(Exception):
    """The push did not carry a valid signature for the configured secret (missing, malformed or wrong)."""


class PayloadInvalid(ValueError):
    """The body is not a message we can read. The text names the missing or bad field, e.g.
    ``result.tracking_details[2].datetime: missing``."""

    def __init__(self, field_path: str, problem: str) -> None:
        self.field = field_path
        self.problem = problem
        super().__init__(f"{field_path}: {problem}" if field_path else problem)


def make_dedupe_key(tracking_number: str, status: str, occurred_at: datetime, description: str) -> str:
    """sha256 hex of ``tracking_number|status|occurred_at (UTC, ISO 8601)|description``, cut to 64 characters
    (the width of `TrackingEvent.dedupe_key`; a sha256 hex digest is exactly 64)."""
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    stamp = occurred_at.astimezone(UTC).isoformat()
    text = "|".join((tracking_number, str(status), stamp, description))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:64]


def storable(text: str) -> str:
    """A carrier's text as a database column takes it: a NUL or a lone surrogate becomes U+FFFD (a tracking
    number with one then matches no parcel, and the message says so)."""
    text = str(text).replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def storable_record(value):
    """A carrier's record as a JSON column takes it (PostgreSQL's jsonb refuses a NUL, and no column takes a
    lone surrogate): every such text in it made ``storable``, the record itself returned when nothing needed it."""
    if isinstance(value, str):
        return value if value.isascii() and "\x00" not in value else storable(value)
    if isinstance(value, dict):
        fitted = {storable_record(k): storable_record(v) for k, v in value.items()}
        return (
            value
            if all(a is b for a, b in zip(fitted.values(), value.values(), strict=True)) and list(fitted) == list(value)
            else fitted
        )
    if isinstance(value, list):
        fitted = [storable_record(v) for v in value]
        return value if all(a is b for a, b in zip(fitted, value, strict=True)) else fitted
    return value


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    """One tracking scan in our terms.

    - ``status`` is a `TrackingStatus` value (a plain ``str``).
    - ``occurred_at`` is timezone-aware and in UTC (an aware value in another zone is converted; naive is refused).
    - ``carrier_status`` keeps the provider's own words (``"failure/delivery_exception"``) for support staff.
    - ``code_known`` is False when the provider's code is not in our table for it (a new or undocumented code):
      the event is kept with its raw record and flagged, and its ``status`` is only what the code's documented
      parent says (or ``unknown``), never a confident guess.
    - ``raw`` is the provider's record of this one scan; it takes no part in equality or hashing.
    """

    tracking_number: str
    status: str
    occurred_at: datetime
    description: str
    location: str
    carrier_status: str
    dedupe_key: str
    est_delivery_date: date | None = None
    code_known: bool = True
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.status not in _STATUS_VALUES:
            raise ValueError(f"status {self.status!r} is not a TrackingStatus value")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if self.occurred_at.tzinfo is not UTC:  # e.g. a form's Asia/Shanghai time: same instant, in UTC
            object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))

    @classmethod
    def build(
        cls,
        *,
        tracking_number: str,
        status: str,
        occurred_at: datetime,
        description: str = "",
        location: str = "",
        carrier_status: str = "",
        est_delivery_date: date | None = None,
        code_known: bool = True,
        raw: dict | None = None,
    ) -> NormalizedEvent:
        """Make an event, converting ``occurred_at`` to UTC, fitting the text to the model's columns and
        computing ``dedupe_key``."""
        occurred_at = occurred_at.astimezone(UTC)
        tracking_number = storable(tracking_number)
        description = storable((description or "").strip())[:DESCRIPTION_MAX]
        location = storable((location or "").strip())[:LOCATION_MAX]
        carrier_status = storable(carrier_status or "")
        status = status if status in _STATUS_VALUES else str(TrackingStatus(status).value)  # raises if unknown
        return cls(
            tracking_number=tracking_number,
            status=status,
            occurred_at=occurred_at,
            description=description,
            location=location,
            carrier_status=carrier_status,
            dedupe_key=make_dedupe_key(tracking_number, status, occurred_at, description),
            est_delivery_date=est_delivery_date,
            code_known=code_known,
            raw=storable_record(raw) if raw else {},
        )


_STATUS_VALUES = frozenset(TrackingStatus.values)  # (``TrackingStatus.values`` builds a new list at each call)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A scan a parser did not build because the parcel has it stored already (its dedupe key is among the
    ``known`` keys the caller gave): counted as a duplicate, its code still flagged when unknown."""

    tracking_number: str
    dedupe_key: str
    carrier_status: str
    code_known: bool


def skip_known(
    known: dict[str, set[str]] | None,
    skipped: dict[tuple[str, str], Skipped] | None,
    *,
    tracking_number: str,
    status: str,
    occurred_at: datetime,
    description: str,
    carrier_status: str,
    code_known: bool,
) -> bool:
    """Whether this scan is stored already, told from its dedupe key alone (no text fitted, no raw record
    copied, no event built): ``known`` maps tracking numbers to their stored scans' keys. The key is the one
    `NormalizedEvent.build` computes when the text is clean (nothing to replace, within the column); text that
    is not gives another key here, so the scan is built in full and deduplicated as before: a scan is never
    skipped unless it is stored. A skipped scan is noted in ``skipped`` (once per key)."""
    keys = known.get(tracking_number) if known else None
    if not keys:
        return False
    key = make_dedupe_key(tracking_number, status, occurred_at, description[:DESCRIPTION_MAX])
    if key not in keys:
        return False
    if skipped is not None:
        skipped.setdefault((tracking_number, key), Skipped(tracking_number, key, carrier_status, code_known))
    return True


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a provider's code pair means in our terms: ``status`` (None: no event), and whether the pair is in
    the provider's table (``known``); an unknown pair keeps its parent's meaning, flagged."""

    status: str | None
    known: bool = True
