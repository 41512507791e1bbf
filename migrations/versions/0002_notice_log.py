"""Notice log: proactive notices claimed per subject, so none is sent twice.

Revision ID: 0002_notice_log
Revises: 0002
Create Date: 2026-11-23 11:30:48.557463

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002_notice_log"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create notice_log with its unique (kind, subject_key) index."""
    op.create_table(
        "notice_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('shipping_notice', 'delay_apology', 'follow_up_visit', 'installation_reminder', 'formula_runout')",
            name=op.f("ck_notice_log_kind_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_notice_log_status_valid")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notice_log_attempts_nonnegative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_notice_log_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_notice_log_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_log")),
    )
    with op.batch_alter_table("notice_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_log_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_notice_log_kind_subject", ["kind", "subject_key"], unique=True)


def downgrade() -> None:
    """Drop notice_log."""
    with op.batch_alter_table("notice_log", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_log_kind_subject")
        batch_op.drop_index(batch_op.f("ix_notice_log_customer_id"))

    op.drop_table("notice_log")
