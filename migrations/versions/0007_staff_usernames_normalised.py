"""Staff usernames in the one form sign-in reads them (`shop.text.inputs.staff_username`).

Sign-in and its lock read a typed name NFKC-normalised, case-folded and without invisible
characters; an account stored in another form (`Agent`, `ａｇｅｎｔ`) could not sign in. Such
names are rewritten in that form, unless two accounts would then share a name (those are left
as they are, for a person to rename).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 11:05:00

"""

import unicodedata
from collections import Counter
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MAX_STAFF_NAME = 32


def _staff_username(value: str) -> str:
    # the rule of shop.text.inputs.staff_username when this revision was written
    text = unicodedata.normalize("NFKC", value)
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    folded = unicodedata.normalize("NFKC", visible.casefold())
    return " ".join(folded.split())[:MAX_STAFF_NAME]


def upgrade() -> None:
    """Rewrite every staff username that is not in the sign-in form, where it stays unique."""
    agents = sa.table("agents", sa.column("id", sa.Integer), sa.column("username", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(agents.c.id, agents.c.username)).all()
    wanted = {row.id: _staff_username(row.username) for row in rows}
    taken = Counter(wanted.values())
    for row in rows:
        name = wanted[row.id]
        if name != row.username and name and taken[name] == 1:
            bind.execute(agents.update().where(agents.c.id == row.id).values(username=name))


def downgrade() -> None:
    """Nothing to undo: the earlier form of a name is not kept."""
