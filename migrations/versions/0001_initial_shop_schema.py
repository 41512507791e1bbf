"""Initial shop schema: catalogue, customers, orders, logistics, after-sale, service, staff.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:14:41.609796

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create every table of actions/models.py as of this revision."""
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("compensation_limit_fen", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('agent', 'supervisor', 'trainer')", name=op.f("ck_agents_role_valid")
        ),
        sa.CheckConstraint("compensation_limit_fen >= 0", name=op.f("ck_agents_limit_nonnegative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("nickname", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("phone_tail", sa.String(length=4), nullable=False),
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("city", sa.String(length=16), nullable=False),
        sa.Column("address_masked", sa.String(length=120), nullable=False),
        sa.Column("member_level", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("free_shipping_card_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("personality_type", sa.String(length=16), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("baby_birth_date", sa.Date(), nullable=True),
        sa.Column("formula_daily_grams", sa.Integer(), nullable=True),
        sa.Column("referred_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "member_level IN ('regular', 'silver', 'gold', 'platinum', 'diamond')",
            name=op.f("ck_customers_member_level_valid"),
        ),
        sa.CheckConstraint(
            "personality_type IN ('dominant', 'expressive', 'amiable', 'analytical')",
            name=op.f("ck_customers_personality_type_valid"),
        ),
        sa.CheckConstraint(
            "length(phone_tail) = 4", name=op.f("ck_customers_phone_tail_four_digits")
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_customers_points_nonnegative")),
        sa.ForeignKeyConstraint(
            ["referred_by_id"],
            ["customers.id"],
            name=op.f("fk_customers_referred_by_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_phone_tail"), ["phone_tail"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customers_referred_by_id"), ["referred_by_id"], unique=False
        )

    op.create_table(
        "gifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("min_order_fen", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gifts")),
    )
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gifts_category"), ["category"], unique=False)

    op.create_table(
        "installation_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=16), nullable=False),
        sa.Column("service_point", sa.String(length=120), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("contact_within_hours", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation_providers")),
    )
    with op.batch_alter_table("installation_providers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_installation_providers_city"), ["city"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("needs_installation", sa.Boolean(), nullable=False),
        sa.Column("mounting_height_min_mm", sa.Integer(), nullable=True),
        sa.Column("mounting_height_max_mm", sa.Integer(), nullable=True),
        sa.Column("ceiling_cutout_width_mm", sa.Integer(), nullable=True),
        sa.Column("ceiling_cutout_depth_mm", sa.Integer(), nullable=True),
        sa.Column("flue_diameter_mm", sa.Integer(), nullable=True),
        sa.Column("flue_max_length_m", sa.Integer(), nullable=True),
        sa.Column("warranty_years", sa.Integer(), nullable=False),
        sa.Column("authorisation_cert_no", sa.String(length=64), nullable=True),
        sa.Column("anti_counterfeit_scheme", sa.String(length=200), nullable=True),
        sa.Column("size_chart", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_fen >= 0", name=op.f("ck_products_price_nonnegative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
        sa.UniqueConstraint("name", name=op.f("uq_products_name")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_department"), ["department"], unique=False)

    op.create_table(
        "anti_counterfeit_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_anti_counterfeit_codes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anti_counterfeit_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_anti_counterfeit_codes_code")),
    )
    with op.batch_alter_table("anti_counterfeit_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anti_counterfeit_codes_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("threshold_fen", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "amount_fen > 0 AND threshold_fen >= 0", name=op.f("ck_coupons_amounts_valid")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_coupons_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coupons_customer_valid", ["customer_id", "valid_until"], unique=False
        )

    op.create_table(
        "price_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.CheckConstraint("price_fen >= 0", name=op.f("ck_price_history_price_nonnegative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_price_history_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_history")),
    )
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_price_history_product_from", ["product_id", "effective_from"], unique=False
        )

    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("discount_fen", sa.Integer(), nullable=True),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("threshold_fen", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(discount_fen IS NULL) <> (percent_off IS NULL)",
            name=op.f("ck_promotions_one_discount"),
        ),
        sa.CheckConstraint(
            "percent_off IS NULL OR (percent_off > 0 AND percent_off < 100)",
            name=op.f("ck_promotions_percent_range"),
        ),
        sa.CheckConstraint(
            "product_id IS NOT NULL OR category IS NOT NULL", name=op.f("ck_promotions_has_target")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_promotions_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotions_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_promotions_product_id"), ["product_id"], unique=False)
        batch_op.create_index("ix_promotions_window", ["starts_at", "ends_at"], unique=False)

    op.create_table(
        "skus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("colour", sa.String(length=32), nullable=True),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("restock_date", sa.Date(), nullable=True),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_skus_stock_nonnegative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_skus_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("code", name=op.f("uq_skus_code")),
    )
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skus_product_id"), ["product_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=13), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("items_total_fen", sa.Integer(), nullable=False),
        sa.Column("discount_fen", sa.Integer(), nullable=False),
        sa.Column("shipping_fee_fen", sa.Integer(), nullable=False),
        sa.Column("payable_fen", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=True),
        sa.Column("shipping_city", sa.String(length=16), nullable=False),
        sa.Column("address_masked", sa.String(length=120), nullable=False),
        sa.Column("invoice_title", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "state IN ('unpaid', 'paid', 'shipped', 'delivered', 'completed', 'cancelled')",
            name=op.f("ck_orders_state_valid"),
        ),
        sa.CheckConstraint(
            "items_total_fen >= 0 AND discount_fen >= 0 AND shipping_fee_fen >= 0 "
            "AND payable_fen >= 0",
            name=op.f("ck_orders_amounts_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_orders_coupon_id_coupons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("order_number", name=op.f("uq_orders_order_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_customer_created", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_state"), ["state"], unique=False)

    op.create_table(
        "installation_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contact_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slot IN ('morning', 'afternoon', 'evening')",
            name=op.f("ck_installation_appointments_slot_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'confirmed', 'done', 'cancelled')",
            name=op.f("ck_installation_appointments_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_installation_appointments_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_installation_appointments_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_installation_appointments_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["installation_providers.id"],
            name=op.f("fk_installation_appointments_provider_id_installation_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation_appointments")),
    )
    with op.batch_alter_table("installation_appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_installation_appointments_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_installation_appointments_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_installation_appointments_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_fen", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_order_items_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_items_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_sku_id"), ["sku_id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("tracking_number", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_transit', 'out_for_delivery', 'delivered', 'returned')",
            name=op.f("ck_shipments_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_shipments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_shipments_tracking_number")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)

    op.create_table(
        "complaint_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("demand", sa.String(length=200), nullable=True),
        sa.Column("options_offered", sa.JSON(), nullable=False),
        sa.Column("chosen_option", sa.String(length=64), nullable=True),
        sa.Column("compensation_fen", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("follow_up_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "category IN ('quality', 'logistics', 'attitude', 'price')",
            name=op.f("ck_complaint_tickets_category_valid"),
        ),
        sa.CheckConstraint(
            "kind IN ('complaint', 'logistics_chase', 'delivery_investigation', "
            "'price_protection')",
            name=op.f("ck_complaint_tickets_kind_valid"),
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high')",
            name=op.f("ck_complaint_tickets_severity_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved', 'closed')",
            name=op.f("ck_complaint_tickets_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_complaint_tickets_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_complaint_tickets_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_complaint_tickets_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_complaint_tickets_shipment_id_shipments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_tickets")),
    )
    with op.batch_alter_table("complaint_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_tickets_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaint_tickets_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaint_tickets_status_due", ["status", "follow_up_due"], unique=False
        )

    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_fen", sa.Integer(), nullable=False),
        sa.Column("return_tracking_number", sa.String(length=32), nullable=True),
        sa.Column("exchange_sku_id", sa.Integer(), nullable=True),
        sa.Column("photo_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("return_shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('return', 'exchange')", name=op.f("ck_returns_kind_valid")),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'return_shipped', 'refunded', "
            "'exchange_shipped', 'rejected', 'closed')",
            name=op.f("ck_returns_status_valid"),
        ),
        sa.CheckConstraint("refund_fen >= 0", name=op.f("ck_returns_refund_nonnegative")),
        sa.ForeignKeyConstraint(
            ["exchange_sku_id"],
            ["skus.id"],
            name=op.f("fk_returns_exchange_sku_id_skus"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_returns_order_item_id_order_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_returns_return_tracking_number"),
            ["return_tracking_number"],
            unique=False,
        )

    op.create_table(
        "shipment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_events_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_events")),
    )
    with op.batch_alter_table("shipment_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipment_events_shipment_time", ["shipment_id", "occurred_at"], unique=False
        )


def downgrade() -> None:
    """Drop every table, children first."""
    with op.batch_alter_table("shipment_events", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_events_shipment_time")

    op.drop_table("shipment_events")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_return_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_returns_order_id"))

    op.drop_table("returns")
    with op.batch_alter_table("complaint_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_tickets_status_due")
        batch_op.drop_index(batch_op.f("ix_complaint_tickets_order_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_tickets_customer_id"))

    op.drop_table("complaint_tickets")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_items_sku_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_order_id"))

    op.drop_table("order_items")
    with op.batch_alter_table("installation_appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installation_appointments_provider_id"))
        batch_op.drop_index(batch_op.f("ix_installation_appointments_order_id"))
        batch_op.drop_index(batch_op.f("ix_installation_appointments_customer_id"))

    op.drop_table("installation_appointments")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_state"))
        batch_op.drop_index("ix_orders_customer_created")

    op.drop_table("orders")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skus_product_id"))

    op.drop_table("skus")
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.drop_index("ix_promotions_window")
        batch_op.drop_index(batch_op.f("ix_promotions_product_id"))
        batch_op.drop_index(batch_op.f("ix_promotions_category"))

    op.drop_table("promotions")
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.drop_index("ix_price_history_product_from")

    op.drop_table("price_history")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_coupons_customer_valid")

    op.drop_table("coupons")
    with op.batch_alter_table("anti_counterfeit_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anti_counterfeit_codes_product_id"))

    op.drop_table("anti_counterfeit_codes")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_department"))
        batch_op.drop_index(batch_op.f("ix_products_category"))

    op.drop_table("products")
    with op.batch_alter_table("installation_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installation_providers_city"))

    op.drop_table("installation_providers")
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gifts_category"))

    op.drop_table("gifts")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_referred_by_id"))
        batch_op.drop_index(batch_op.f("ix_customers_phone_tail"))
        batch_op.drop_index(batch_op.f("ix_customers_city"))

    op.drop_table("customers")
    op.drop_table("agents")
