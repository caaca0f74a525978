"""The one normalized tracking status set. No database access here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TrackingStatus(models.TextChoices):
    INFO_RECEIVED = "info_received", _("Information received")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Available for pickup")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNING_TO_SENDER = "returning_to_sender", _("Returning to sender")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")
    LOST = "lost", _("Lost")
    UNKNOWN = "unknown", _("Unknown carrier status")


T = TrackingStatus

# Statuses that say something went wrong: a case is opened for them (logistics/cases) and the public page
# explains them. They are not "backwards": a problem after out-for-delivery is news, not an old scan.
PROBLEMS = frozenset({T.FAILED_ATTEMPT, T.EXCEPTION, T.RETURNING_TO_SENDER, T.RETURNED_TO_SENDER, T.LOST})
# Provider codes saying a parcel waited at a pickup point or locker and was not collected in time.
NOT_COLLECTED_CODES = frozenset(
    {"kdniao/412", "available_for_pickup/expired", "return_to_sender/expired", "failure/expired"}
)
# No "no scan" or "late" checks for these: the parcel reached an end (or the carrier says it is gone).
TERMINAL = frozenset({T.DELIVERED, T.RETURNED_TO_SENDER, T.LOST})
# Not on its way to the customer: no "late" or "no scan" checks and no new expected date (the case of the return
# is the one place that follows it).
NOT_ON_ITS_WAY = TERMINAL | {T.RETURNING_TO_SENDER}
# Final facts: once reached, no later scan moves the parcel (a stray scan after delivery is recorded, not applied).
FINAL = frozenset({T.DELIVERED, T.RETURNED_TO_SENDER})
# A parcel on its way back only moves on to these: the scans of the way back (often tagged "in transit") must not
# make it look as if it were coming to the customer again.
AFTER_RETURNING = frozenset({T.RETURNED_TO_SENDER, T.LOST})

# Tie-break only, for two events at the same instant: the further one wins.
RANK = {
    T.UNKNOWN: -1,
    T.INFO_RECEIVED: 0,
    T.IN_TRANSIT: 1,
    T.EXCEPTION: 2,
    T.FAILED_ATTEMPT: 3,
    T.OUT_FOR_DELIVERY: 3,
    T.AVAILABLE_FOR_PICKUP: 4,
    T.LOST: 5,
    T.RETURNING_TO_SENDER: 6,
    T.DELIVERED: 7,
    T.RETURNED_TO_SENDER: 7,
}


def parcel_moves(current: str, current_at, new: str, new_at) -> bool:
    """Whether an event (``new`` at ``new_at``) becomes the parcel's status, given where it is (``current`` as of
    ``current_at``, None before its first applied event).

    The newest event by the carrier's own time wins, whatever it says: a refusal, a failed attempt, an
    exception, a return after out-for-delivery or at a pickup point are news, and so is moving again after an
    exception. Not applied (but recorded on the timeline): an unknown carrier code; any event after a final
    one (delivered, returned); anything but "returned"/"lost" while the parcel is on its way back; an event older
    than the one applied already (it arrived late) unless it is final (a late "delivered" is still the truth).
    """
    if new == T.UNKNOWN:
        return False
    if current in FINAL:
        return False
    if current == T.RETURNING_TO_SENDER:
        return new in AFTER_RETURNING
    if current_at is None or new in FINAL:
        return True
    if new_at != current_at:
        return new_at > current_at
    return RANK[new] > RANK[current]


class ServiceKind(models.TextChoices):
    EXPRESS = "express", _("Express")
    STANDARD = "standard", _("Standard")
    ECONOMY = "economy", _("Economy")
    COLD_CHAIN = "cold_chain", _("Cold chain")
    FREIGHT = "freight", _("Freight")


# The customer-facing Chinese words for each status (the tracking page and e-mails).
STATUS_ZH = {
    T.INFO_RECEIVED: "已收到物流信息",
    T.IN_TRANSIT: "运输中",
    T.OUT_FOR_DELIVERY: "派送中",
    T.FAILED_ATTEMPT: "派送未成功",
    T.AVAILABLE_FOR_PICKUP: "待取件",
    T.DELIVERED: "已签收",
    T.EXCEPTION: "运输异常",
    T.RETURNING_TO_SENDER: "正在退回寄件人",
    T.RETURNED_TO_SENDER: "已退回寄件人",
    T.LOST: "包裹丢失",
    T.UNKNOWN: "物流更新",
}
