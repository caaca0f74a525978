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
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")
    LOST = "lost", _("Lost")


T = TrackingStatus

# How far along each status is; a later event with a lower rank does not move a parcel back.
RANK = {
    T.INFO_RECEIVED: 0,
    T.IN_TRANSIT: 1,
    T.EXCEPTION: 1,
    T.FAILED_ATTEMPT: 2,
    T.OUT_FOR_DELIVERY: 2,
    T.AVAILABLE_FOR_PICKUP: 3,
    T.DELIVERED: 4,
    T.RETURNED_TO_SENDER: 4,
    T.LOST: 4,
}
TERMINAL = frozenset({T.DELIVERED, T.RETURNED_TO_SENDER, T.LOST})


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
    T.RETURNED_TO_SENDER: "已退回寄件人",
    T.LOST: "包裹丢失",
}
