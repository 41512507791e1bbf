"""Shared base of the actions that answer from the shop database."""

from __future__ import annotations

import abc
import logging
import os
import traceback
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shop import db

logger = logging.getLogger(__name__)
Events = List[Dict[str, Any]]


def _raised_at(error: BaseException) -> str:
    """Where an exception was raised ("module.py:42 in func"): code, never the customer's data."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"


class ShopAction(Action, abc.ABC):
    """Opens one session per call; any failure gets an apology and a human.

    A database failure and any other exception inside an action (a bug, a ValueError from a
    repository function) are answered alike, so the customer is never left without a reply;
    the log names the action and the exception's type and place, never its message (which may
    quote what the customer typed).

    Subclasses implement :meth:`answer`, naming responses and passing facts;
    they never write customer-facing text themselves.
    """

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Events:
        """Runs :meth:`answer` inside a session scope."""
        try:
            with db.session_scope() as session:
                return self.answer(dispatcher, tracker, domain, session)
        except SQLAlchemyError as error:
            logger.error(
                "%s: shop database unavailable (%s) in conversation %s",
                self.name(),
                type(error).__name__,
                tracker.sender_id[:8],
            )
            return self._apologise(dispatcher)
        except Exception as error:  # whatever broke, the customer still gets a reply
            logger.error(
                "%s: failed with %s at %s",
                self.name(),
                type(error).__name__,
                _raised_at(error),
            )
            return self._apologise(dispatcher)

    @staticmethod
    def _apologise(dispatcher: CollectingDispatcher) -> Events:
        """The apology and the hand-over to a human after a failure.

        Replies the action queued before it failed are dropped: its work was rolled back, so
        they could promise what did not happen.
        """
        dispatcher.messages.clear()
        dispatcher.utter_message(response="utter_shop_unavailable")
        return [SlotSet("handoff_reason", "system_error")]

    @abc.abstractmethod
    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers from the shop database.

        Args:
            dispatcher: Where to send responses (by name, with facts).
            tracker: The conversation.
            domain: The assistant's domain.
            session: An open session, committed when this returns.

        Returns:
            Events to apply to the conversation.
        """
