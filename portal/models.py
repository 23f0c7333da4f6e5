"""Every feature's tables, imported here so that Alembic sees one Base.metadata.

Features import their own and each other's models from the feature modules, never from here.
"""
from portal.accounts.models import (
    CHANNELS,
    PARTNER_ROLES,
    PARTNER_STATUSES,
    ROLES,
    STAFF_ROLES,
    STAGES,
    ApiToken,
    DeliveryAddress,
    Invitation,
    Partner,
    PriceTier,
    User,
    UserSession,
)
from portal.catalog.models import Product, TierPrice
from portal.core.models import AuditEvent
from portal.core.money import MAX_MONEY, ZERO, to_money
from portal.core.types import MAX_ROW_ID, Money, UTCDateTime, utc_now
from portal.notifications.models import NOTIFICATION_STATUSES, Notification, Task
from portal.ordering.credits import Credit, CreditUse
from portal.ordering.models import ORDER_SOURCES, ORDER_STATUSES, CartLine, Order, OrderLine
from portal.recurring.models import (
    RecurringDraft,
    RecurringLine,
    RecurringOrder,
    RecurringRun,
    RecurringSettings,
    RecurringSkip,
)
from portal.referrals.models import Referral, ReferralEvent, ReferralReward
from portal.workspace.forecast_models import ForecastAdjustment, ForecastMonth, ForecastRun, PartnerForecast
from portal.workspace.relationship_models import Feedback, Interaction, StageChange

__all__ = [
    "AuditEvent", "ZERO", "MAX_MONEY", "MAX_ROW_ID", "Money", "UTCDateTime", "to_money", "utc_now",
    "Product", "TierPrice",
    "ORDER_SOURCES", "ORDER_STATUSES", "Order", "OrderLine", "CHANNELS", "PARTNER_STATUSES",
    "STAGES", "Partner", "PriceTier", "PARTNER_ROLES", "ROLES", "STAFF_ROLES", "ApiToken", "DeliveryAddress",
    "Invitation", "User", "UserSession", "CartLine", "Notification", "Task",
    "NOTIFICATION_STATUSES", "RecurringOrder", "RecurringLine", "RecurringSkip", "RecurringRun",
    "RecurringDraft", "RecurringSettings", "Referral", "ReferralEvent", "ReferralReward", "Credit", "CreditUse",
    "ForecastRun", "PartnerForecast", "ForecastMonth", "ForecastAdjustment",
    "Feedback", "Interaction", "StageChange",
]
