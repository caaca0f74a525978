"""Carrier adapters: rates, labels, voids and tracking per carrier, behind one interface.

`get_adapter(name)` resolves `logistics.models.Carrier.adapter` to an adapter. Adapters take and
return plain values (no models, no database); services do the reads and writes around them.
"""

from .base import (
    CarrierAccount,
    CarrierAdapter,
    LabelRequest,
    LabelResult,
    Rate,
    ServiceRate,
    ShipmentInfo,
    UnknownCarrierAdapter,
    get_adapter,
    register_adapter,
)

__all__ = [
    "CarrierAccount",
    "CarrierAdapter",
    "LabelRequest",
    "LabelResult",
    "Rate",
    "ServiceRate",
    "ShipmentInfo",
    "UnknownCarrierAdapter",
    "get_adapter",
    "register_adapter",
]
