"""Plays the conversations against a running stack and judges every turn.

Used by `tests/e2e/test_conversations.py` (one test per conversation, the stack started once
for the module) and by `bench/conversations.py` (the share handled right, per topic). The
client is anything with `settings`, `say(sender, text, metadata)` and `tracker(sender)`, such as
`tests.e2e.conftest.Assistant`.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple

from shop.signing import sign_chat
from tests.e2e.conversations import checks
from tests.e2e.conversations.checks import Context, TurnRecord, plain
from tests.e2e.conversations.loading import NO_PAGE, Conversation, Turn, load_all
from tests.e2e.conversations.shop_facts import ORDER_KINDS, AllocationError, Binding, ShopFacts

REPLY_PREVIEW = 400


class Client(Protocol):
    """What the runner needs of the stack: the REST channel and the tracker."""

    settings: Any

    def say(self, sender: str, text: str, metadata: Optional[dict] = None) -> list:
        """Sends a customer message; returns the bot's replies."""

    def tracker(self, sender: str) -> dict:
        """The conversation's tracker."""


@dataclass
class Failure:
    """One check a turn failed."""

    turn: int
    shown: str
    reply: str
    check: str
    detail: str
    reading: str = ""  # intent, confidence and responses of the turn


@dataclass
class Outcome:
    """How one conversation went."""

    conversation: Conversation
    failures: List[Failure] = field(default_factory=list)
    turns: List[TurnRecord] = field(default_factory=list)
    seconds: float = 0.0
    error: Optional[str] = None  # the suite itself could not run it (data or set-up)

    @property
    def passed(self) -> bool:
        """Every turn passed every check."""
        return not self.failures and self.error is None

    def report(self) -> str:
        """The conversation's failures: each turn, its reply and the checks it failed."""
        conversation = self.conversation
        lines = [f"{conversation.id} ({conversation.topic}): {conversation.title}"]
        if conversation.known_failure:
            lines.append(f"  known failure: {conversation.known_failure}")
        if self.error:
            lines.append(f"  could not run: {self.error}")
        last = None
        for failure in self.failures:
            if failure.turn != last:
                lines.append(f"  turn {failure.turn}: 「{failure.shown}」")
                lines.append(f"    reply: {failure.reply[:REPLY_PREVIEW]}")
                if failure.reading:
                    lines.append(f"    read as: {failure.reading}")
                last = failure.turn
            lines.append(f"    ✗ {failure.check}: {failure.detail}")
        return "\n".join(lines)


def load_conversations() -> List[Conversation]:
    """Every conversation of the suite, checked while loading."""
    return load_all(checks.EXPECT_KEYS, frozenset(ORDER_KINDS))


def _reply_text(record: TurnRecord) -> str:
    texts = record.texts or [f"[card] {card}" for card in record.cards]
    buttons = [b.get("title", "") for b in record.buttons]
    shown = " | ".join(t.replace("\n", " ") for t in texts)
    return shown + (f"  [buttons: {' / '.join(buttons)}]" if buttons else "")


def _reading(record: TurnRecord) -> str:
    confidence = f" {record.confidence:.2f}" if record.confidence is not None else ""
    return f"{record.intent}{confidence} -> {', '.join(record.responses) or '(no response)'}"


class ConversationRunner:
    """Runs conversations one after the other against one stack and one seeded shop."""

    def __init__(self, client: Client, shop: ShopFacts) -> None:
        self.client = client
        self.shop = shop
        self.bindings: Dict[str, Binding] = {}
        self.allocation_errors: Dict[str, str] = {}

    def prepare(self, conversations: Iterable[Conversation]) -> None:
        """Gives every conversation its orders before any runs (so none sees another's rows)."""
        for conversation in conversations:
            try:
                self.bindings[conversation.id] = self.shop.bind(
                    conversation.id, conversation.orders, conversation.customer == "signed_in"
                )
            except AllocationError as missing:
                self.allocation_errors[conversation.id] = str(missing)

    def run(self, conversation: Conversation) -> Outcome:
        """Plays one conversation and judges each of its turns."""
        outcome = Outcome(conversation)
        started = time.perf_counter()
        if conversation.id not in self.bindings and conversation.id not in self.allocation_errors:
            self.prepare([conversation])
        if conversation.id in self.allocation_errors:
            outcome.error = self.allocation_errors[conversation.id]
            return outcome
        try:
            self._play(conversation, self.bindings[conversation.id], outcome)
        except Exception:  # a data or suite error, not the bot's: reported as such
            outcome.error = traceback.format_exc(limit=4)
        outcome.seconds = time.perf_counter() - started
        return outcome

    def _metadata(self, binding: Binding, sender: str, page: Optional[str]) -> Dict[str, Any]:
        metadata: Dict[str, Any] = {}
        if binding.customer_id is not None:
            key = self.client.settings.signing_key
            metadata["customer_id"] = binding.customer_id
            metadata["customer_sig"] = sign_chat(binding.customer_id, sender, key)
        if page and page != NO_PAGE:
            metadata["page_product_id"] = self.shop.product(page).id
        return metadata

    def _context(self, conversation: Conversation, binding: Binding) -> Context:
        ctx = Context(
            self.shop,
            binding,
            datetime.now(timezone.utc),
            signed_in=binding.customer_id is not None,
        )
        if binding.customer_id is not None:
            ctx.proven.add(binding.customer_id)
            referred = {
                name
                for turn in conversation.turns
                for _, name in self.shop.placeholder_orders(turn.say or "", binding)
            }
            if all(binding.orders[n].customer_id == binding.customer_id for n in referred):
                ctx.given["phone_tail"] = 0  # a signed-in customer's own orders need no tail
        return ctx

    def _message(
        self, turn: Turn, binding: Binding, previous: Optional[TurnRecord]
    ) -> Tuple[str, str, List[str]]:
        """(what the customer is shown to send, the message sent, details it gives)."""
        gives = list(turn.gives)
        if turn.say is not None:
            text = self.shop.fill(turn.say, binding)
            for placeholder, _ in self.shop.placeholder_orders(turn.say, binding):
                if placeholder == "order":
                    gives.append("order_id")
                elif placeholder == "tail":
                    gives.append("phone_tail")
            return text, text, gives
        target = plain(self.shop.fill(turn.click or "", binding))
        buttons = previous.buttons if previous is not None else []
        for button in buttons:
            title, payload = str(button.get("title", "")), str(button.get("payload", ""))
            if target in plain(title) or target in plain(payload):
                if checks.ORDER_NUMBER.search(plain(title + payload)):
                    gives.append("order_id")
                if any(name in plain(title) for name, _ in self.shop.product_names()):
                    gives.append("product")
                return f"[button] {title}", payload, gives
        offered = " / ".join(str(b.get("title", "")) for b in buttons) or "none"
        raise LookupError(f"no button with {target!r} to press (offered: {offered})")

    def _play(self, conversation: Conversation, binding: Binding, outcome: Outcome) -> None:
        sender = f"conv-{conversation.id}-{uuid.uuid4().hex[:8]}"
        ctx = self._context(conversation, binding)
        seen = 0
        previous: Optional[TurnRecord] = None
        for number, turn in enumerate(conversation.turns, start=1):
            try:
                shown, sent, gives = self._message(turn, binding, previous)
            except LookupError as missing:
                outcome.failures.append(
                    Failure(number, f"[button] {turn.click}", "", "click", str(missing))
                )
                return
            page = turn.page if turn.page is not None else conversation.page
            checks.note_customer_words(sent, ctx, gives, number)
            replies = self.client.say(sender, sent, self._metadata(binding, sender, page) or None)
            tracker = self.client.tracker(sender)
            events = tracker.get("events") or []
            record = self._record(number, shown, sent, replies, events[seen:], tracker)
            seen = len(events)
            outcome.turns.append(record)
            problems: List[Tuple[str, str]] = []
            problems += [("answered", p) for p in checks.check_answered(record)]
            problems += [
                ("phantom number", p) for p in checks.check_no_phantom_number(record, gives)
            ]
            problems += [("privacy", p) for p in checks.check_privacy(record, ctx)]
            problems += [("asked twice", p) for p in checks.check_asked_twice(record, ctx)]
            for name, expected in turn.expect.items():
                problems += [(name, p) for p in checks.EXPECT_CHECKS[name](expected, record, ctx)]
            reply, reading = _reply_text(record), _reading(record)
            outcome.failures += [
                Failure(number, shown, reply, name, detail, reading) for name, detail in problems
            ]
            previous = record

    @staticmethod
    def _record(
        number: int,
        shown: str,
        sent: str,
        replies: Sequence[dict],
        new_events: Sequence[dict],
        tracker: dict,
    ) -> TurnRecord:
        record = TurnRecord(number, shown, sent, list(replies or []))
        for event in new_events:
            if event.get("event") == "user" and record.intent is None:
                intent = (event.get("parse_data") or {}).get("intent") or {}
                record.intent, record.confidence = intent.get("name"), intent.get("confidence")
            elif event.get("event") == "bot":
                name = (event.get("metadata") or {}).get("utter_action")
                if name:
                    record.responses.append(name)
            elif event.get("event") == "action" and str(event.get("name", "")).startswith(
                "action_ask_"
            ):
                record.responses.append(event["name"])
        record.slots = dict(tracker.get("slots") or {})
        return record


@dataclass
class TopicScore:
    """How many conversations of a topic were handled right."""

    right: int = 0
    total: int = 0
    known: int = 0  # of the failures, those marked known_failure

    @property
    def share(self) -> float:
        """Share handled right."""
        return self.right / self.total if self.total else 0.0


def scores(outcomes: Sequence[Outcome]) -> "OrderedDict[str, TopicScore]":
    """Per topic (in the order first seen) and overall ("all")."""
    table: "OrderedDict[str, TopicScore]" = OrderedDict()
    for outcome in outcomes:
        for topic in (outcome.conversation.topic, "all"):
            score = table.setdefault(topic, TopicScore())
            score.total += 1
            if outcome.passed:
                score.right += 1
            elif outcome.conversation.known_failure:
                score.known += 1
    if "all" in table:
        table.move_to_end("all")
    return table
