"""The customer's rating of a delivery (1-5 and a comment), from the tracking page or the survey link."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError

from ..models import DeliveryRating, Order
from ..services import order_event_record, order_lock
from ..status import EventKind, OrderStatus
from ..wording import msg

RATEABLE_STATUSES = frozenset({OrderStatus.DELIVERED})


def customer_may_rate(order: Order) -> bool:
    return order.status in RATEABLE_STATUSES and not DeliveryRating.objects.filter(order=order).exists()


@transaction.atomic
def delivery_rate(
    *, order: Order, score: int, comment: str = "", source: str = "tracking page", user=None
) -> DeliveryRating:
    """Record the one rating of a delivered order; a second rating is refused."""
    order = order_lock(order.pk)
    if order.status not in RATEABLE_STATUSES:
        raise DomainError(
            gettext("Order %(order_number)s can be rated once it is delivered.") % {"order_number": order.number}
        )
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise DomainError(gettext("Choose 1 to 5 stars.")) from None
    if not 1 <= score <= 5:
        raise DomainError(gettext("Choose 1 to 5 stars."))
    if DeliveryRating.objects.filter(order=order).exists():
        raise DomainError(
            gettext("Order %(order_number)s has been rated already. Thank you!") % {"order_number": order.number}
        )
    try:
        with transaction.atomic():
            rating = DeliveryRating.objects.create(
                order=order, score=score, comment=comment.strip()[:1000], source=source
            )
    except IntegrityError:
        raise DomainError(
            gettext("Order %(order_number)s has been rated already. Thank you!") % {"order_number": order.number}
        ) from None
    order_event_record(
        order=order,
        kind=EventKind.RATING,
        user=user,
        message=(
            msg(
                gettext_noop("Delivery rated %(score)s/5 (%(source)s): %(comment)s"),
                score=score,
                source=source,
                comment=comment.strip()[:200],
            )
            if comment.strip()
            else msg(gettext_noop("Delivery rated %(score)s/5 (%(source)s)."), score=score, source=source)
        ),
        data={"score": score, "source": source},
    )
    return rating
