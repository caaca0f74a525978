"""The models of orders, one module per sub-domain; every model is importable from ``orders.models``."""

from .channels import (
    Channel,
    ChannelKind,
    ChannelPlatform,
    ChannelSku,
    ChannelStockFigure,
    ChannelStockPublication,
    PublicationOutcome,
    StockAdapter,
    StockPolicy,
)
from .customers import Customer
from .finance import FinanceSettings, InvoiceKind, InvoiceRequest, InvoiceTitleType, PriceFloor
from .gifts import GiftOutOfStock, GiftRule
from .inbox import InboundMessage, InboundStatus
from .memo_tags import SellerFlag, effective_tags, normal_tag, parse_flag, tag_problem
from .merge import MergeSettings, OrderMergeGroup, OrderMergeMember
from .notifications import Notification, NotificationChannel, NotificationKind, NotificationOptOut, NotificationStatus
from .orders import Order, OrderEvent, OrderHold, OrderLine, OrderQuerySet, PaymentMethod, join_tags, split_tags
from .returns import DeliveryRating, ReturnLine, ReturnReason, ReturnRequest, ReturnResolution
from .rules import Capability, ClassificationRule, RiskSettings, ServiceKindRequirement, StageRule, split_list

__all__ = [
    "ChannelKind",
    "StockPolicy",
    "StockAdapter",
    "ChannelPlatform",
    "Channel",
    "ChannelSku",
    "ChannelStockFigure",
    "PublicationOutcome",
    "ChannelStockPublication",
    "Customer",
    "GiftOutOfStock",
    "GiftRule",
    "PaymentMethod",
    "split_tags",
    "join_tags",
    "OrderQuerySet",
    "Order",
    "OrderLine",
    "OrderHold",
    "OrderEvent",
    "InboundStatus",
    "InboundMessage",
    "NotificationKind",
    "NotificationChannel",
    "NotificationStatus",
    "Notification",
    "NotificationOptOut",
    "ReturnReason",
    "ReturnResolution",
    "ReturnRequest",
    "ReturnLine",
    "DeliveryRating",
    "ServiceKindRequirement",
    "Capability",
    "ClassificationRule",
    "split_list",
    "RiskSettings",
    "StageRule",
    "MergeSettings",
    "OrderMergeGroup",
    "OrderMergeMember",
    "SellerFlag",
    "effective_tags",
    "normal_tag",
    "parse_flag",
    "tag_problem",
    "InvoiceKind",
    "InvoiceTitleType",
    "InvoiceRequest",
    "FinanceSettings",
    "PriceFloor",
]
