"""Customers' sign-out generations: signing out of the storefront revokes every cookie and chat.

A shop that already has the table (the web app created it on first use before this revision)
keeps its generations: they are copied into the new table, so nothing revoked comes back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 10:20:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INTERIM = "customer_signouts_interim"


def upgrade() -> None:
    """Create the customer_signouts table, carrying over the rows of an earlier one."""
    earlier = sa.inspect(op.get_bind()).has_table("customer_signouts")
    if earlier:
        op.rename_table("customer_signouts", INTERIM)
    op.create_table(
        "customer_signouts",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_signouts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_signouts")),
    )
    if earlier:
        op.execute(
            f"INSERT INTO customer_signouts (customer_id, generation, signed_out_at) "
            f"SELECT customer_id, generation, signed_out_at FROM {INTERIM} "
            f"WHERE customer_id IN (SELECT id FROM customers)"
        )
        op.drop_table(INTERIM)


def downgrade() -> None:
    """Drop the customer_signouts table."""
    op.drop_table("customer_signouts")
