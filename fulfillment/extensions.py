"""Panels other apps add to the shipment page (logistics: compared rates and the service override).

fulfillment cannot import logistics; logistics registers a function ``panel(request, shipment) -> html``
in its AppConfig.ready, the same way fulfillment adds panels to the order page.
"""

from collections.abc import Callable

_PANELS: list[tuple[int, Callable]] = []


def register_shipment_panel(panel: Callable, *, position: int = 50) -> None:
    if all(existing is not panel for _, existing in _PANELS):
        _PANELS.append((position, panel))
        _PANELS.sort(key=lambda item: item[0])


def shipment_panels(request, shipment) -> list[str]:
    return [panel(request, shipment) for _, panel in _PANELS]


# The pack station's panels once every item is scanned (logistics: ship with a label made elsewhere).
_PACK_PANELS: list[tuple[int, Callable]] = []


def register_pack_panel(panel: Callable, *, position: int = 50) -> None:
    if all(existing is not panel for _, existing in _PACK_PANELS):
        _PACK_PANELS.append((position, panel))
        _PACK_PANELS.sort(key=lambda item: item[0])


def pack_panels(request, shipment) -> list[str]:
    return [panel(request, shipment) for _, panel in _PACK_PANELS]
