"""Anti-counterfeit codes count every check and keep the latest one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:40:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add check_count and last_checked_at; codes already used count as checked once."""
    with op.batch_alter_table("anti_counterfeit_codes") as batch:
        batch.add_column(sa.Column("check_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint("check_count_nonnegative", "check_count >= 0")
    op.execute(
        "UPDATE anti_counterfeit_codes SET check_count = 1, last_checked_at = used_at " "WHERE used"
    )


def downgrade() -> None:
    """Drop the check counter."""
    with op.batch_alter_table("anti_counterfeit_codes") as batch:
        batch.drop_constraint("check_count_nonnegative", type_="check")
        batch.drop_column("last_checked_at")
        batch.drop_column("check_count")
