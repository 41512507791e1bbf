"""A conversation's visible history, read through Rasa's token-protected HTTP API."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from bot.rasa_client import RasaClient

MAX_MESSAGES = 200


def _buttons(data: Dict[str, Any]) -> List[Dict[str, str]]:
    raw = data.get("buttons") or data.get("quick_replies") or []
    buttons = []
    for button in raw:
        if isinstance(button, dict) and button.get("title"):
            buttons.append(
                {"title": str(button["title"]), "payload": str(button.get("payload") or "")}
            )
    return buttons


def _staff_marks(metadata: Dict[str, Any]) -> Dict[str, str]:
    """Who sent a bot event other than the bot: an agent (with their name) or a system notice."""
    sender = metadata.get("sender")
    if sender not in ("agent", "system"):
        return {}
    marks = {"sender": sender}
    if isinstance(metadata.get("agent_name"), str):
        marks["agent_name"] = metadata["agent_name"]
    return marks


def visible_messages(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Return what the customer saw from a tracker's events: their texts and the bot's replies.

    Commands the widget sends on the customer's behalf (`/greet`, `/choose_persona{...}`) are
    left out; a bot reply keeps its text, quick-reply buttons and custom payload.

    Args:
        events: The tracker's events as Rasa's HTTP API returns them.

    Returns:
        Messages in order, each `{"role": "user"|"bot", "text", "buttons"?, "custom"?,
        "sender"?, "agent_name"?}` (sender "agent" or "system" for staff messages),
        the last MAX_MESSAGES only.
    """
    messages: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = str(event.get("text") or "")
            if text and not text.startswith("/"):
                messages.append({"role": "user", "text": text})
        elif kind == "bot":
            data = event.get("data") or {}
            message: Dict[str, Any] = {"role": "bot", "text": str(event.get("text") or "")}
            buttons = _buttons(data)
            if buttons:
                message["buttons"] = buttons
            if data.get("custom"):
                message["custom"] = data["custom"]
            message.update(_staff_marks(event.get("metadata") or {}))
            if message["text"] or buttons or "custom" in message:
                messages.append(message)
    return messages[-MAX_MESSAGES:]


def latest_persona(events: List[Dict[str, Any]]) -> Optional[str]:
    """The persona the latest bot reply was rendered in (None before any rendered reply)."""
    for event in reversed(events):
        if event.get("event") != "bot":
            continue
        persona = (event.get("metadata") or {}).get("persona")
        if isinstance(persona, str) and persona:
            return persona
    return None


async def fetch_history(rasa: RasaClient, session_id: str, timeout: float = 10.0) -> Dict[str, Any]:
    """Read a conversation's tracker from Rasa and return what the widget restores.

    Args:
        rasa: The client of the Rasa server (it holds the token, never sent to the browser).
        session_id: The conversation id, already checked by the caller.
        timeout: Seconds to wait for Rasa.

    Returns:
        `messages`: the visible messages (empty for a new conversation); `persona`: the
        persona the bot's latest reply was rendered in (kept in its metadata by the persona
        renderer, so a shop default persona counts too), else the persona slot, or None.

    Raises:
        RasaUnavailable: when Rasa does not answer or answers with an error.
    """
    tracker = await rasa.tracker(session_id, include_events="ALL", timeout=timeout)
    events = tracker.get("events") or []
    persona = latest_persona(events) or (tracker.get("slots") or {}).get("persona")
    return {
        "messages": visible_messages(events),
        "persona": persona if isinstance(persona, str) else None,
    }
