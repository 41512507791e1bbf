"""Wrong phone tails counted per order and client, their alerts, and refund states for review.

Returns get when they were approved and the refund's state (issued, under review, reversed)
with who set it and when; refunds already paid count as issued by the bot, and requests past
"requested" as approved when they were made.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:40:32

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create verification_failures and verification_alerts; add the refund state to returns."""
    op.create_table(
        "verification_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scope IN ('order', 'conversation', 'customer', 'shop')",
            name=op.f("ck_verification_alerts_scope_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_alerts")),
    )
    with op.batch_alter_table("verification_alerts") as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_alerts_last_at"), ["last_at"])
        batch_op.create_index(
            "ix_verification_alerts_scope_subject", ["scope", "subject", "last_at"]
        )

    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=13), nullable=False),
        sa.Column("guess", sa.String(length=16), nullable=False),
        sa.Column("conversation", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_verification_failures_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    with op.batch_alter_table("verification_failures") as batch_op:
        batch_op.create_index(
            "ix_verification_failures_conversation_at", ["conversation", "occurred_at"]
        )
        batch_op.create_index(
            "ix_verification_failures_customer_at", ["customer_id", "occurred_at"]
        )
        batch_op.create_index(batch_op.f("ix_verification_failures_occurred_at"), ["occurred_at"])
        batch_op.create_index("ix_verification_failures_order_at", ["order_number", "occurred_at"])

    with op.batch_alter_table("returns") as batch_op:
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refund_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("refund_state_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("refund_state_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("review_due", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_returns_refund_state"), ["refund_state"])
        batch_op.create_check_constraint(
            "refund_state_valid", "refund_state IN ('issued', 'under_review', 'reversed')"
        )
        batch_op.create_check_constraint(
            "review_reason_valid", "review_reason IN ('above_limit', 'unconfirmed_number')"
        )
    op.execute(
        "UPDATE returns SET refund_state = 'issued', refund_state_by = 'bot', "
        "refund_state_at = refunded_at WHERE status = 'refunded'"
    )
    op.execute(
        "UPDATE returns SET approved_at = created_at "
        "WHERE status NOT IN ('requested', 'rejected')"
    )


def downgrade() -> None:
    """Drop the refund state columns and the verification tables."""
    with op.batch_alter_table("returns") as batch_op:
        batch_op.drop_constraint("review_reason_valid", type_="check")
        batch_op.drop_constraint("refund_state_valid", type_="check")
        batch_op.drop_index(batch_op.f("ix_returns_refund_state"))
        batch_op.drop_column("review_due")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("refund_state_at")
        batch_op.drop_column("refund_state_by")
        batch_op.drop_column("refund_state")
        batch_op.drop_column("approved_at")

    with op.batch_alter_table("verification_failures") as batch_op:
        batch_op.drop_index("ix_verification_failures_order_at")
        batch_op.drop_index(batch_op.f("ix_verification_failures_occurred_at"))
        batch_op.drop_index("ix_verification_failures_customer_at")
        batch_op.drop_index("ix_verification_failures_conversation_at")
    op.drop_table("verification_failures")

    with op.batch_alter_table("verification_alerts") as batch_op:
        batch_op.drop_index("ix_verification_alerts_scope_subject")
        batch_op.drop_index(batch_op.f("ix_verification_alerts_last_at"))
    op.drop_table("verification_alerts")
