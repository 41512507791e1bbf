"""The one place where a conversation's mode changes: `auto`, `assist` or `human`.

Rasa's own mechanisms carry the mode: taking a conversation over appends `ConversationPaused`
(Rasa then records the customer's messages without answering) whose metadata names the mode and
the agent (and their staff role); handing back appends `ConversationResumed`. The customer is
told with a notice, and the agent's messages are `BotUttered` events with metadata
`{"sender": "agent", ...}`; all of them go through Rasa's tracker events API, which also delivers
them to the widget over socket.io.

What waits for a supervisor (compensation above the frontline's authority) is taken over and
handed back only by a supervisor: a frontline agent could otherwise take it out of the
supervisors' queue and hand it back to the bot, which drops the reason it waited for.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.agent.accounts import StaffSession
from bot.agent.conversations import MODES, SUPERVISOR_REASON, mode_of, reasons_of
from bot.nlg import script
from bot.rasa_client import RasaClient

NOTICES = Path(__file__).resolve().parent / "notices.yml"
MAX_AGENT_MESSAGE_CHARS = 1000


class ModeRefused(Exception):
    """The switch or message is not allowed; `code` names why (for the console)."""

    def __init__(self, code: str) -> None:
        """Keeps the reason's code."""
        super().__init__(code)
        self.code = code


@lru_cache(maxsize=1)
def _notices() -> Dict[str, str]:
    data = yaml.safe_load(NOTICES.read_text(encoding="utf-8")) or {}
    return {str(name): str(text) for name, text in data.items()}


def _notice(name: str, staff: StaffSession, events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The notice in the script the customer writes (Traditional customers read Traditional)."""
    text = _notices()[name].format(agent=staff.display_name)
    return {
        "event": "bot",
        "text": script.to_script(text, script.conversation_script(events)),
        "metadata": {
            "sender": "system",
            "notice": name,
            "agent": staff.username,
            "agent_name": staff.display_name,
        },
    }


def _check_holder(current: Dict[str, Optional[str]], staff: StaffSession) -> None:
    holder = current["agent"]
    if current["mode"] != "auto" and holder and holder != staff.username:
        if staff.role != "supervisor":
            raise ModeRefused("held_by_another_agent")


def _check_supervisor_wait(
    events: List[Dict[str, Any]],
    current: Dict[str, Optional[str]],
    wanted: str,
    staff: StaffSession,
) -> None:
    """A frontline agent neither takes nor lets go of what waits for a supervisor.

    Taking it over would hide it from the supervisors' queue, and handing it back to the bot
    would drop the reason it waits for; a frontline agent who already holds it (the reason came
    up meanwhile) keeps it until a supervisor takes it from them.
    """
    if staff.role == "supervisor" or SUPERVISOR_REASON not in reasons_of(events):
        return
    if wanted == "auto" or current["mode"] == "auto":
        raise ModeRefused("supervisor_required")


def mode_events(
    events: List[Dict[str, Any]], wanted: str, staff: StaffSession
) -> List[Dict[str, Any]]:
    """The events that switch a conversation to the wanted mode (empty when it is already there).

    Args:
        events: The conversation's tracker events.
        wanted: `auto`, `assist` or `human`.
        staff: The signed-in agent or supervisor.

    Returns:
        Events in Rasa's JSON form.

    Raises:
        ModeRefused: for an unknown mode, a conversation another agent holds (only a
            supervisor may take it from them), or a frontline agent taking over or handing
            back a conversation that waits for a supervisor (`supervisor_required`).
    """
    if wanted not in MODES:
        raise ModeRefused("unknown_mode")
    current = mode_of(events)
    _check_holder(current, staff)
    if wanted == "auto":
        if current["mode"] == "auto":
            return []
        _check_supervisor_wait(events, current, wanted, staff)
        return [_notice("bot_back", staff, events), {"event": "resume"}]
    if current["mode"] == wanted and current["agent"] == staff.username:
        return []
    _check_supervisor_wait(events, current, wanted, staff)
    meta = {"mode": wanted, "agent": staff.username, "role": staff.role}
    pause = {"event": "pause", "metadata": meta}
    if current["mode"] == "auto" or current["agent"] != staff.username:
        return [pause, _notice("agent_joined", staff, events)]
    return [pause]


def agent_message_event(
    events: List[Dict[str, Any]], text: object, staff: StaffSession
) -> Dict[str, Any]:
    """The event that sends an agent's message to the customer.

    Args:
        events: The conversation's tracker events.
        text: What the agent wrote.
        staff: The signed-in agent or supervisor.

    Returns:
        A `bot` event with metadata `{"sender": "agent", "agent", "agent_name"}`.

    Raises:
        ModeRefused: for an empty or too long message, or a conversation the agent has not
            taken over (`assist` or `human` mode, held by them or, for a supervisor, anyone).
    """
    if not isinstance(text, str) or not text.strip():
        raise ModeRefused("empty_message")
    if len(text) > MAX_AGENT_MESSAGE_CHARS:
        raise ModeRefused("message_too_long")
    current = mode_of(events)
    if current["mode"] == "auto":
        raise ModeRefused("not_taken_over")
    _check_holder(current, staff)
    return {
        "event": "bot",
        "text": text.strip(),
        "metadata": {
            "sender": "agent",
            "agent": staff.username,
            "agent_name": staff.display_name,
        },
    }


async def switch_mode(
    rasa: RasaClient,
    conversation_id: str,
    events: List[Dict[str, Any]],
    wanted: str,
    staff: StaffSession,
) -> str:
    """Switch a conversation's mode through Rasa and return the new mode.

    Args:
        rasa: The client of the Rasa server.
        conversation_id: The conversation (already validated).
        events: Its tracker events.
        wanted: `auto`, `assist` or `human`.
        staff: The signed-in agent or supervisor.

    Returns:
        The new mode.

    Raises:
        ModeRefused: see `mode_events`.
        RasaUnavailable: when Rasa does not take the events.
    """
    new_events = mode_events(events, wanted, staff)
    if new_events:
        await rasa.append_events(conversation_id, new_events)
    return wanted
