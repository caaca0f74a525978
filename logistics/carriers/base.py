"""The carrier adapter interface, the values it takes and returns, and the registry of adapters by name.

An adapter is what a `Carrier.adapter` name points at ("local", later e.g. "easypost"). It knows one
carrier's API (or, for "local", none) and nothing of our models: services read the shipment and service
levels, call the adapter with plain values, and write the parcel. Adapters raise `CarrierError` for a
refusal and `TransientCarrierError` for a failure worth retrying (timeouts, 5xx); tasks retry only those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from django.utils.module_loading import import_string

from logistics.providers.base import NormalizedEvent

DEFAULT_CURRENCY = "CNY"


class CarrierError(Exception):
    """The carrier refused the request (bad address, overweight, unknown service, ...). Do not retry."""


class TransientCarrierError(CarrierError):
    """The carrier could not be reached or failed on its side. Safe to retry with backoff."""


class UnknownCarrierAdapter(LookupError):
    """No adapter is registered under that name."""


@dataclass(frozen=True, slots=True)
class Rate:
    service_code: str
    amount: Decimal
    currency: str
    transit_days: int


@dataclass(frozen=True, slots=True)
class ServiceRate:
    """One service level's price list, as the caller read it from `logistics.models.ServiceLevel`."""

    service_code: str
    base_rate: Decimal
    per_kg_rate: Decimal
    transit_days: int
    max_weight_g: int | None = None

    @classmethod
    def of(cls, service: Any) -> ServiceRate:
        """From anything shaped like a `ServiceLevel` (``code``, ``base_rate``, ``per_kg_rate``, ``transit_days``,
        ``max_weight_g``)."""
        return cls(
            service_code=service.code,
            base_rate=Decimal(service.base_rate),
            per_kg_rate=Decimal(service.per_kg_rate),
            transit_days=int(service.transit_days),
            max_weight_g=service.max_weight_g,
        )


@dataclass(frozen=True, slots=True)
class ShipmentInfo:
    """What a rate request needs: the parcel's weight and the services to price."""

    weight_g: int
    services: Sequence[ServiceRate] = ()
    currency: str = DEFAULT_CURRENCY
    origin_country: str = ""
    destination_country: str = ""
    # For carriers that rate by address and size (EasyPost): plain dicts like LabelRequest's.
    sender: dict = field(default_factory=dict, hash=False)
    recipient: dict = field(default_factory=dict, hash=False)
    dimensions_mm: tuple[int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class LabelRequest:
    shipment_number: str
    service_code: str
    weight_g: int
    sender: dict = field(default_factory=dict, hash=False)
    recipient: dict = field(default_factory=dict, hash=False)
    # The carrier API's own service name (`ServiceLevel.external_code`), e.g. EasyPost "USPS:Priority".
    external_service: str = ""
    label_format: str = "PDF"
    dimensions_mm: tuple[int, int, int] | None = None
    declared_value: Decimal | None = None
    currency: str = DEFAULT_CURRENCY
    # What is in the box ({"name", "quantity"} each) and the order's number: e-waybills print them.
    contents: tuple = ()
    order_number: str = ""


@dataclass(frozen=True, slots=True)
class LabelResult:
    tracking_number: str
    carrier_reference: str
    label_url: str = ""
    label_format: str = ""
    amount: Decimal | None = None
    currency: str = ""
    # What else the carrier said that the label needs (Kdniao: 大头笔 MarkDestination, 集包地 PackageName ...).
    data: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class CarrierAccount:
    """A carrier's connection settings as plain values (from `logistics.models.Carrier`): what a remote adapter
    needs to reach its API. ``base_url`` empty: the vendor's production URL."""

    api_key: str = ""
    base_url: str = ""
    account_id: str = ""
    shipper_code: str = ""
    options: dict = field(default_factory=dict, hash=False)
    label_format: str = "PDF"

    def __repr__(self) -> str:  # never print the secrets (logs, tracebacks)
        return f"CarrierAccount(base_url={self.base_url!r}, account_id={self.account_id!r}, ...)"


@runtime_checkable
class CarrierAdapter(Protocol):
    """What every carrier adapter offers.

    An adapter with ``remote = True`` calls the carrier over the network: its labels are bought before the
    shipment's transaction (`logistics.carrier_labels`), its voids go through the outbox, and it takes its
    settings with ``configure(account: CarrierAccount)``."""

    name: str

    def rates(self, shipment_info: ShipmentInfo) -> list[Rate]:
        """Prices for the services that can carry this shipment, cheapest first."""
        ...

    def create_label(self, request: LabelRequest) -> LabelResult:
        """Buy or issue a label; returns the tracking number and the carrier's own reference."""
        ...

    def void(self, tracking_number: str, carrier_reference: str = "") -> None:
        """Cancel a label that has not been used (``carrier_reference``: the carrier's id of it, if any)."""
        ...

    def track(self, tracking_number: str) -> list[NormalizedEvent]:
        """Poll the carrier for the parcel's scans (may be [] for carriers that push or have no tracking)."""
        ...


# name -> dotted path of the adapter class (instantiated with no arguments), or the class itself.
_ADAPTERS: dict[str, Any] = {
    "local": "logistics.carriers.local.LocalCarrier",
    "easypost": "logistics.carriers.easypost_labels.EasyPostCarrier",
    "kdniao": "logistics.carriers.kdniao.KdniaoCarrier",
}


def register_adapter(name: str, adapter: Any) -> None:
    """Register an adapter class (or its dotted path) under ``name``; replaces an earlier one."""
    _ADAPTERS[name] = adapter


def is_remote(adapter: Any) -> bool:
    """Whether the adapter calls a carrier over the network (labels bought outside transactions)."""
    return bool(getattr(adapter, "remote", False))


def adapter_names() -> list[str]:
    return sorted(_ADAPTERS)


def get_adapter(name: str) -> CarrierAdapter:
    """A fresh adapter for ``name`` (a `Carrier.adapter` value). Raises `UnknownCarrierAdapter`."""
    try:
        target = _ADAPTERS[name]
    except KeyError:
        raise UnknownCarrierAdapter(f"no carrier adapter named {name!r}; known: {', '.join(adapter_names())}")
    cls = import_string(target) if isinstance(target, str) else target
    return cls()
