"""All models, imported here so that Base.metadata knows every table."""
from portal.models.audit import AuditEvent
from portal.models.base import MAX_MONEY, MAX_ROW_ID, ZERO, Money, UTCDateTime, to_money, utc_now
from portal.models.cart import CartLine
from portal.models.catalog import Product, TierPrice
from portal.models.notification import NOTIFICATION_STATUSES, Notification, Task
from portal.models.order import ORDER_SOURCES, ORDER_STATUSES, Order, OrderLine
from portal.models.partner import CHANNELS, PARTNER_STATUSES, STAGES, Partner, PriceTier
from portal.models.user import (
    PARTNER_ROLES,
    ROLES,
    STAFF_ROLES,
    ApiToken,
    Invitation,
    User,
    UserSession,
)

__all__ = [
    "AuditEvent", "ZERO", "MAX_MONEY", "MAX_ROW_ID", "Money", "UTCDateTime", "to_money", "utc_now",
    "Product", "TierPrice",
    "ORDER_SOURCES", "ORDER_STATUSES", "Order", "OrderLine", "CHANNELS", "PARTNER_STATUSES",
    "STAGES", "Partner", "PriceTier", "PARTNER_ROLES", "ROLES", "STAFF_ROLES", "ApiToken",
    "Invitation", "User", "UserSession", "CartLine", "Notification", "Task",
    "NOTIFICATION_STATUSES",
]
