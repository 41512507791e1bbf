"""Invoice requests: the title, tax number and when each requested invoice will be issued.

Revision ID: 0003
Revises: 0002_notice_log
Create Date: 2026-11-23 12:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: Union[str, None] = "0002_notice_log"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the invoice_requests table."""
    op.create_table(
        "invoice_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("tax_number", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issue_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'issued', 'cancelled')",
            name=op.f("ck_invoice_requests_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_invoice_requests_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_requests")),
    )
    with op.batch_alter_table("invoice_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_requests_order_id"), ["order_id"], unique=False
        )


def downgrade() -> None:
    """Drop the invoice_requests table."""
    with op.batch_alter_table("invoice_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_requests_order_id"))
    op.drop_table("invoice_requests")
