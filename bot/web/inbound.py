"""What the customer channels (socket.io and REST) accept from a client, checked the same way.

- A message is a non-empty string of at most `MAX_MESSAGE_CHARS` characters without lone UTF-16
  surrogates (half an emoji); anything else is refused with a reason, never passed to Rasa.
- Text starting with "/" is a command only when it is one the widget or a quick reply sends: a
  customer intent of the domain without entities, with a product name (the bot's "which one?"
  buttons), or `choose_persona` with a known persona id.
  Anything else ("/restart", external intents, entities of the customer's choosing, a persona
  that is markup or a dict, and text the NLU normaliser would turn into a command, such as a
  full-width "／restart") is the customer's words: its slash becomes a division slash "∕" (or one
  is put in front), so Rasa never unpacks it as an intent and NLU reads it as text.
- Metadata keeps only what the shop defines: the widget's `client_msg_id`, the product page the
  customer is looking at (`page_product_id`), and the identity a
  valid chat signature proves (`shop.signing.proven_metadata`). The signature itself, flags such
  as `is_external` and any other key a client sends are dropped, so they never reach the tracker.
- A conversation is written only by its owner: a signed-in customer's (`c-…`) needs a chat
  signature for it that is neither expired nor revoked; an anonymous one (`a-…`) the secret that
  owns it (`bot.web.auth.owns_anonymous`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Mapping, Optional

import yaml

from bot.web.auth import ANONYMOUS_ID, CUSTOMER_CONVERSATION_ID, owns_anonymous
from bot.web.limits import MAX_MESSAGE_CHARS
from bot.web.personas import PERSONA_IDS
from shop.conversation import COMMAND_PREFIX, EXTERNAL_INTENT_PREFIX
from shop.signing import ChatSignature, proven_metadata, read_chat_signature
from shop.text.normalise import normalise

CLIENT_MSG_ID_KEY = "client_msg_id"
BUTTON_ENTITIES = frozenset({"product"})
MAX_BUTTON_VALUE = 60
PAGE_PRODUCT_KEY = "page_product_id"
MAX_PRODUCT_ID_DIGITS = 9
MAX_CLIENT_MSG_ID_CHARS = 64
MAX_CONVERSATION_ID_CHARS = 64
DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain.yml"
# U+2215 DIVISION SLASH: looks like "/", and the NLU normaliser does not fold it into one.
SAFE_SLASH = "\u2215"

logger = logging.getLogger(__name__)

GenerationOf = Callable[[int], Awaitable[int]]


class Refused(ValueError):
    """Input a channel refuses: `code` for programs, `reason` for people reading the answer."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def as_dict(self) -> Dict[str, str]:
        """The refusal as the channels answer it."""
        return {"error": self.code, "reason": self.reason}


def _has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def message_text(value: Any) -> str:
    """The customer's message if it is one a channel accepts.

    Args:
        value: The `message` field as the client sent it.

    Returns:
        The text, unchanged.

    Raises:
        Refused: for a missing or non-string message, an empty one, lone surrogates or too long.
    """
    if value is None:
        raise Refused("missing_message", "the message is missing")
    if not isinstance(value, str):
        raise Refused("not_text", "the message must be a string")
    if not value.strip():
        raise Refused("empty_message", "the message is empty")
    if _has_lone_surrogate(value):
        raise Refused("lone_surrogate", "the message contains a lone UTF-16 surrogate")
    if len(value) > MAX_MESSAGE_CHARS:
        raise Refused(
            "message_too_long", f"the message is longer than {MAX_MESSAGE_CHARS} characters"
        )
    return value


def conversation_id(value: Any) -> str:
    """A conversation id a client names, if well-formed (a string of printable characters).

    Raises:
        Refused: for a missing, non-string, empty, over-long or unprintable id.
    """
    if value is None or value == "":
        raise Refused("missing_sender", "the conversation id (sender / session_id) is missing")
    if not isinstance(value, str) or len(value) > MAX_CONVERSATION_ID_CHARS:
        raise Refused("bad_sender", "the conversation id must be a string of at most 64 characters")
    if not value.isprintable() or not value.strip() or _has_lone_surrogate(value):
        raise Refused("bad_sender", "the conversation id must be printable text")
    return value


def client_metadata(value: Any) -> Mapping[str, Any]:
    """The metadata a client sent, as a mapping (a JSON object string is read as one).

    Raises:
        Refused: for anything else than a mapping, a JSON object string or nothing.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Refused("bad_metadata", "the metadata must be a JSON object") from None
    if not isinstance(value, Mapping):
        raise Refused("bad_metadata", "the metadata must be a JSON object")
    return value


def client_message_id(metadata: Any) -> Optional[str]:
    """The widget's id of a customer message (`client_msg_id`), if it has a usable one."""
    try:
        found = client_metadata(metadata).get(CLIENT_MSG_ID_KEY)
    except Refused:
        return None
    if isinstance(found, str) and 0 < len(found) <= MAX_CLIENT_MSG_ID_CHARS:
        if found.isprintable() and not _has_lone_surrogate(found):
            return found
    return None


def page_product_id(metadata: Any) -> Optional[int]:
    """The product page the customer is looking at (`page_product_id`), if it is a usable id.

    It only tells the actions which product "这款" means; it proves nothing, so any positive
    whole number is passed on and the shop database decides whether it is a product.
    """
    try:
        found = client_metadata(metadata).get(PAGE_PRODUCT_KEY)
    except Refused:
        return None
    if isinstance(found, bool) or not isinstance(found, (int, str)):
        return None
    text = str(found)
    if text.isascii() and text.isdigit() and 0 < len(text) <= MAX_PRODUCT_ID_DIGITS:
        return int(text) or None
    return None


_intents: Optional[FrozenSet[str]] = None


def customer_intents(domain_file: Path = DOMAIN_FILE) -> FrozenSet[str]:
    """The domain's intents a customer may send as a command (external intents excluded)."""
    global _intents
    if _intents is None or domain_file != DOMAIN_FILE:
        try:
            data = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            logger.warning("domain file unreadable: commands are read as text")
            data = {}
        names = set()
        for entry in data.get("intents") or []:
            name = next(iter(entry)) if isinstance(entry, dict) and entry else entry
            if isinstance(name, str) and not name.startswith(EXTERNAL_INTENT_PREFIX):
                names.add(name)
        if domain_file != DOMAIN_FILE:
            return frozenset(names)
        _intents = frozenset(names)
    return _intents


def _allowed_command(command: str, intents: FrozenSet[str]) -> bool:
    name, brace, rest = command.partition("{")
    if name not in intents:
        return False
    if not brace:
        return True
    try:
        entities = json.loads(brace + rest)
    except ValueError:
        return False
    if not isinstance(entities, dict) or not entities:
        return False
    if name == "choose_persona":
        persona = entities.get("persona")
        return list(entities) == ["persona"] and isinstance(persona, str) and persona in PERSONA_IDS
    # the bot's own buttons name a product ("which one did you mean?"): what the customer could
    # type anyway; order numbers, phone tails and the like always go through the NLU
    return all(
        key in BUTTON_ENTITIES and isinstance(value, str) and 0 < len(value) <= MAX_BUTTON_VALUE
        for key, value in entities.items()
    )


def guarded_command(text: str, intents: Optional[FrozenSet[str]] = None) -> str:
    """The text Rasa gets: a widget command as it is, anything else never read as a command.

    Args:
        text: The customer's message.
        intents: The intents allowed as commands; the domain's customer intents when omitted.

    Returns:
        The text, with the leading "/" of a command that is not allowed made a division slash.
    """
    stripped = text.strip()
    if not stripped.startswith(COMMAND_PREFIX):
        # Rasa unpacks commands after NLU, from the normalised text: "／restart" would be one
        return SAFE_SLASH + text if normalise(text).strip().startswith(COMMAND_PREFIX) else text
    allowed = customer_intents() if intents is None else intents
    if _allowed_command(stripped[len(COMMAND_PREFIX) :], allowed):
        return text
    return text.replace(COMMAND_PREFIX, SAFE_SLASH, 1)


async def generation_in_shop(customer_id: int) -> int:
    """The customer's sign-out generation, read from the shop database in a worker thread."""
    from bot.web import signouts
    from shop.db import session_scope

    def read() -> int:
        with session_scope() as session:
            return signouts.current_generation(session, customer_id)

    return await asyncio.to_thread(read)


@dataclass
class Claim:
    """A conversation a client may write into, and the metadata to store with its message.

    Attributes:
        conversation_id: The conversation.
        metadata: What the message's metadata becomes (only keys the shop defines).
        customer_id: The signed-in customer proven by a valid, unrevoked signature, or None.
    """

    conversation_id: str
    metadata: Dict[str, Any] = field(default_factory=dict)
    customer_id: Optional[int] = None


async def claim(
    conversation: str,
    metadata: Mapping[str, Any],
    key: str,
    generation_of: GenerationOf = generation_in_shop,
    secret: Any = None,
    owned: bool = False,
    free_form: bool = True,
) -> Claim:
    """Checks that the client may write into a conversation and keeps only the metadata it proves.

    Args:
        conversation: The conversation id (already well-formed).
        metadata: The client's metadata (a mapping).
        key: The shared signing key.
        generation_of: Reads a customer's current sign-out generation.
        secret: The anonymous session secret the client sent, if any.
        owned: The client already proved it owns the conversation (a bound socket).
        free_form: Whether ids other than `c-…` and `a-…` are allowed (REST clients' own ids).

    Returns:
        The claim, with the metadata to store.

    Raises:
        Refused: `signed_out` for a customer conversation without a valid, unrevoked signature,
            `not_your_conversation` for an anonymous one without its secret, `bad_sender` for
            another id where only widget conversations are allowed.
    """
    signature: Optional[ChatSignature] = read_chat_signature(metadata, conversation, key)
    proven = signature
    if signature is not None:
        try:
            if await generation_of(signature.customer_id) != signature.generation:
                signature = proven = None  # signed out since: revoked
        except Exception as error:  # the shop database is down: no identity, but no lock-out
            logger.warning("sign-out generation unavailable: %s", type(error).__name__)
            proven = None
    if CUSTOMER_CONVERSATION_ID.match(conversation):
        if signature is None:
            raise Refused("signed_out", "the chat signature is missing, expired or revoked")
    elif ANONYMOUS_ID.match(conversation):
        if not owned and not owns_anonymous(conversation, secret):
            raise Refused("not_your_conversation", "this conversation belongs to another visitor")
    elif not free_form:
        raise Refused("bad_sender", "unknown kind of conversation id")
    stored: Dict[str, Any] = {}
    msg_id = client_message_id(metadata)
    if msg_id is not None:
        stored[CLIENT_MSG_ID_KEY] = msg_id
    product_id = page_product_id(metadata)
    if product_id is not None:
        stored[PAGE_PRODUCT_KEY] = product_id
    if proven is not None:
        stored.update(
            proven_metadata(proven.customer_id, proven.conversation_id, key, proven.issued)
        )
    return Claim(conversation, stored, proven.customer_id if proven else None)
