"""Shared base of the actions that answer from the shop database."""

from __future__ import annotations

import abc
import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions import db

logger = logging.getLogger(__name__)
Events = List[Dict[str, Any]]


class ShopAction(Action, abc.ABC):
    """Opens one session per call; a database failure gets an apology and a human.

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
