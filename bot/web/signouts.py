"""Customer sign-outs: a per-customer generation in the shop database that revokes on sign-out.

Every storefront cookie and every chat signature names the customer's sign-out generation when
it was issued; signing out moves the generation on, so everything issued before is refused by
every web app and Rasa process (the shop database is shared by all of them and survives
restarts). A customer who never signed out is at generation 0 and has no row
(`shop.db.models.CustomerSignOut`).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.db.models import CustomerSignOut, utcnow


def current_generation(session: Session, customer_id: int) -> int:
    """The customer's sign-out generation: how many times they signed out (0 when never).

    Args:
        session: Open shop database session.
        customer_id: The customer's database id.

    Returns:
        The generation every valid cookie and chat signature of the customer names.
    """
    stmt = select(CustomerSignOut.generation).where(CustomerSignOut.customer_id == int(customer_id))
    found = session.execute(stmt).scalar()
    return int(found or 0)


def sign_out(session: Session, customer_id: int) -> int:
    """Moves the customer's generation on: every cookie and chat signature issued before is dead.

    Args:
        session: Open shop database session (committed by the caller's scope).
        customer_id: The customer's database id.

    Returns:
        The new generation.
    """
    if not _move_on(session, customer_id):
        try:
            with session.begin_nested():
                session.add(
                    CustomerSignOut(
                        customer_id=int(customer_id), generation=1, signed_out_at=utcnow()
                    )
                )
        except IntegrityError:
            # another process signed the customer out first: move its row on, or the
            # customer does not exist and the error stands
            if not _move_on(session, customer_id):
                raise
    return current_generation(session, customer_id)


def _move_on(session: Session, customer_id: int) -> bool:
    moved = session.execute(
        update(CustomerSignOut)
        .where(CustomerSignOut.customer_id == int(customer_id))
        .values(generation=CustomerSignOut.generation + 1, signed_out_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)
