"""Extension points that the apps above orders plug into (in their AppConfig.ready), so that
order pages and the order API can show shipments and parcels without orders importing them.

- order panels: callables (request, order) -> str of HTML, shown on the order page in order.
- order API extras: callables (order) -> dict merged into the order's API representation.
- customer panels: callables (request, customer, orders) -> str of HTML, shown on the customer page in order
  (logistics: the customer's exception cases).
"""

from collections.abc import Callable

_panels: list[tuple[int, Callable]] = []
_api_extras: list[Callable] = []
_customer_panels: list[tuple[int, Callable]] = []


def register_order_panel(render: Callable, *, position: int = 100) -> None:
    if all(existing is not render for _, existing in _panels):
        _panels.append((position, render))
        _panels.sort(key=lambda item: item[0])


def order_panels(request, order) -> list[str]:
    return [render(request, order) for _, render in _panels]


def register_order_api_extra(extra: Callable) -> None:
    if extra not in _api_extras:
        _api_extras.append(extra)


def order_api_extras(order) -> dict:
    data: dict = {}
    for extra in _api_extras:
        data.update(extra(order))
    return data


def register_customer_panel(render: Callable, *, position: int = 100) -> None:
    if all(existing is not render for _, existing in _customer_panels):
        _customer_panels.append((position, render))
        _customer_panels.sort(key=lambda item: item[0])


def customer_panels(request, customer, orders) -> list[str]:
    return [render(request, customer, orders) for _, render in _customer_panels]
