"""The result objects the workflow actions return (what was done), shared by the action modules."""

from dataclasses import dataclass, field

from orders.models import Order


@dataclass
class CancelResult:
    """What a cancellation did. ``outcome``: "cancelled", "intercept", "return" or "partial".

    Unpacks as the old ``(outcome, detail)`` pair: the order, the return request or, for "partial", the
    summary {"cancelled", "shipped", "outcome", "return"}."""

    outcome: str
    order: Order
    shipments_cancelled: list[str] = field(default_factory=list)
    shipped: list[str] = field(default_factory=list)
    backorders_closed: int = 0
    intercept: list[str] = field(default_factory=list)  # what logistics did for an intercept
    return_request: object = None
    shipped_outcome: str = ""  # "partial" only: "intercept" or "return" for the shipped part

    @property
    def detail(self):
        if self.outcome == "partial":
            return {
                "cancelled": self.shipments_cancelled,
                "shipped": self.shipped,
                "return": self.return_request,
                "outcome": self.shipped_outcome,
            }
        if self.outcome == "return":
            return self.return_request
        return self.order

    def __iter__(self):
        return iter((self.outcome, self.detail))
