"""Queries of the shop database; every function takes an open Session (2.0-style `select()`).

Customer input is always bound as a parameter after cleaning (`shop.text.inputs`); lookups that prove
ownership return None both for "not found" and for "not yours". Functions that write flush but
never commit: the caller's `session_scope()` does.
"""

from shop.repository.aftersale import (
    create_return,
    create_ticket,
    open_tickets,
    record_return_shipment,
    record_ticket_choice,
    returns_for_order,
    within_no_reason_window,
)
from shop.repository.agents import (
    authenticate_agent,
    create_agent,
    hash_password,
    verify_password,
)
from shop.repository.catalog import (
    CodeCheck,
    StockInfo,
    active_promotions,
    find_product,
    find_products,
    get_product,
    gifts_for,
    lowest_price_since,
    price_at,
    stock_for,
    verify_anti_counterfeit_code,
)
from shop.repository.customers import (
    CustomerProfile,
    coupons_valid_now,
    customer_profile,
    get_customer,
)
from shop.repository.installation import (
    create_installation_appointment,
    providers_for_city,
)
from shop.repository.logistics import (
    ShipmentView,
    TrackingEvent,
    find_shipment_by_tracking,
    latest_shipment_for_order,
    shipments_for_order,
    stalled_shipments,
)
from shop.repository.orders import (
    ItemView,
    find_order,
    find_order_by_phone_tail,
    find_order_for_customer,
    order_items,
    orders_for_customer,
)

__all__ = [
    "CodeCheck",
    "CustomerProfile",
    "ItemView",
    "ShipmentView",
    "StockInfo",
    "TrackingEvent",
    "active_promotions",
    "authenticate_agent",
    "coupons_valid_now",
    "create_agent",
    "create_installation_appointment",
    "create_return",
    "create_ticket",
    "customer_profile",
    "find_order",
    "find_order_by_phone_tail",
    "find_order_for_customer",
    "find_product",
    "find_products",
    "find_shipment_by_tracking",
    "get_customer",
    "get_product",
    "gifts_for",
    "hash_password",
    "latest_shipment_for_order",
    "lowest_price_since",
    "open_tickets",
    "order_items",
    "orders_for_customer",
    "price_at",
    "providers_for_city",
    "record_return_shipment",
    "record_ticket_choice",
    "returns_for_order",
    "shipments_for_order",
    "stalled_shipments",
    "stock_for",
    "verify_anti_counterfeit_code",
    "verify_password",
    "within_no_reason_window",
]
