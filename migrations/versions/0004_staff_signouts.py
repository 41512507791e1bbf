"""Signed-out console sessions, shared by every web app process and kept across restarts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the staff_signouts table."""
    op.create_table(
        "staff_signouts",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_staff_signouts_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_staff_signouts")),
    )
    with op.batch_alter_table("staff_signouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_signouts_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Drop the staff_signouts table."""
    with op.batch_alter_table("staff_signouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_signouts_expires_at"))
    op.drop_table("staff_signouts")
