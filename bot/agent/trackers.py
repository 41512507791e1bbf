"""Conversations read from Rasa's tracker store (read-only); events appended through Rasa's API.

Rasa's HTTP API is token-protected; nothing here keeps a copy of a conversation.

Listing needs the store itself (Rasa's HTTP API has no "all conversations" call): the embedded
default is the SQLite tracker store, opened read-only per call. Every write goes through Rasa.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CONVERSATIONS = 200


class RasaUnavailable(RuntimeError):
    """Rasa did not answer or refused the request."""


def valid_conversation_id(value: object) -> bool:
    """Tell whether a value may be a conversation id (anything else is refused before any I/O)."""
    return isinstance(value, str) and bool(CONVERSATION_ID.match(value))


def _connect(db_path: Path) -> Optional[sqlite3.Connection]:
    if not db_path.exists():
        return None
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)


def _decode(raw: Optional[str]) -> Optional[Dict[str, Any]]:
    try:
        event = json.loads(raw or "")
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def active_conversations(db_path: Path, since: float) -> Dict[str, List[Dict[str, Any]]]:
    """Every conversation with an event after `since`, with all its events (oldest first).

    Args:
        db_path: The SQLite tracker store.
        since: Unix time; quieter conversations are left out.

    Returns:
        Conversation id → its events as Rasa stores them (the newest MAX_CONVERSATIONS).
    """
    connection = _connect(db_path)
    if connection is None:
        return {}
    try:
        rows = connection.execute(
            "SELECT sender_id, data FROM events WHERE sender_id IN ("
            " SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) >= ?"
            " ORDER BY MAX(timestamp) DESC LIMIT ?) ORDER BY id",
            (since, MAX_CONVERSATIONS),
        ).fetchall()
    except sqlite3.OperationalError:  # Rasa has not created its table yet
        return {}
    finally:
        connection.close()
    conversations: Dict[str, List[Dict[str, Any]]] = {}
    for sender_id, raw in rows:
        event = _decode(raw)
        if event is not None:
            conversations.setdefault(sender_id, []).append(event)
    return conversations


def conversation_events(db_path: Path, conversation_id: str) -> Optional[List[Dict[str, Any]]]:
    """All events of one conversation, oldest first; None when Rasa never saw it.

    Args:
        db_path: The SQLite tracker store.
        conversation_id: Rasa's sender id (already validated).

    Returns:
        The events, or None.
    """
    connection = _connect(db_path)
    if connection is None:
        return None
    try:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    events = [event for event in (_decode(raw) for (raw,) in rows) if event is not None]
    return events or None


async def append_events(
    rasa_url: str,
    token: str,
    conversation_id: str,
    events: List[Dict[str, Any]],
    timeout: float = 10.0,
) -> None:
    """Append events to a conversation through Rasa's tracker events API.

    Bot messages among them are also delivered to the customer through the socket.io channel
    (`execute_side_effects`), into the conversation's room.

    Args:
        rasa_url: Base URL of the Rasa server.
        token: Rasa's HTTP API token (never sent to a browser).
        conversation_id: The conversation (already validated).
        events: Events in Rasa's JSON form.
        timeout: Seconds to wait for Rasa.

    Raises:
        RasaUnavailable: when Rasa does not answer 200.
    """
    url = f"{rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
    params = {
        "token": token,
        "output_channel": "socketio",
        "execute_side_effects": "true",
        "include_events": "NONE",
    }
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as client:
            async with client.post(url, params=params, json=events) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"appending events answered {response.status}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise RasaUnavailable(str(error)) from error
