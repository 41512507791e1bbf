"""A conversation saved as a test story in `tests/stories/trainer_saved.yml`.

The story is what the bot had to predict in the conversation's current session: each customer
message with the intent it means (the trainer's label from the inbox when the message has one,
else the intent the model read or an agent's correction) and the actions the bot took. Left out:
agent and system messages, external events (the shop's notices) with the actions they started,
and the turns an agent answered while the bot was paused; none of them is the bot's prediction.

Rasa's own tracker and story writer (`rasa.shared`, no TensorFlow) replay the events (rewinds,
sessions) and write the steps; the story is appended to the file by round-trip YAML editing
(ruamel.yaml), so every other story and comment stays, under the lock the NLU writers take.
`make test` runs these stories with `rasa test core --fail-on-prediction-errors`: a saved story
must be one the serving model predicts right.
"""

from __future__ import annotations

import copy
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from filelock import FileLock
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.trainer.labels import LOCK_SECONDS, LabelRefused, _replace
from bot.trainer.store import groups
from bot.trainer.tokens import dedup_key
from shop.conversation import is_customer_text, is_external

HEADER = 'version: "3.1"\nstories:\n'
PAUSE, RESUME = "pause", "resume"


def story_name(conversation_id: str, trainer: str, now: float) -> str:
    """`conversation <id> saved by <trainer> <date>` (the date in UTC)."""
    day = datetime.fromtimestamp(now, timezone.utc).date().isoformat()
    return f"conversation {conversation_id} saved by {trainer} {day}"


def _relabelled(event: Dict[str, Any], intent: str) -> Dict[str, Any]:
    changed = copy.deepcopy(event)
    parse = changed.setdefault("parse_data", {})
    parse["intent"] = {"name": intent, "confidence": 1.0}
    parse["intent_ranking"] = [{"name": intent, "confidence": 1.0}]
    return changed


def bot_turns(
    events: List[Dict[str, Any]], label_of: Callable[[str], Optional[str]]
) -> List[Dict[str, Any]]:
    """The events of what the bot predicted, customer intents replaced by the trainer's labels.

    Args:
        events: The conversation's tracker events, oldest first.
        label_of: The trainer's label for a customer message's text, or None.

    Returns:
        The events kept (copies where an intent changed).
    """
    kept: List[Dict[str, Any]] = []
    paused = skipping = False
    for event in events:
        kind = event.get("event")
        if kind == PAUSE:
            paused = True
        elif kind == RESUME:
            paused = False
        if kind == "user":
            skipping = paused or is_external(event)
            if skipping:
                continue
            label = label_of(str(event.get("text") or "")) if is_customer_text(event) else None
            kept.append(_relabelled(event, label) if label else event)
        elif kind == "bot":
            continue  # the bot's words, an agent's or a notice: stories hold actions
        elif kind == "action" and skipping and event.get("name") != "action_listen":
            continue  # what an external event or a paused turn started
        else:
            kept.append(event)
    return kept


def build_story(
    conversation_id: str,
    events: List[Dict[str, Any]],
    label_of: Callable[[str], Optional[str]],
    name: str,
) -> CommentedMap:
    """The current session as one test story (`story`, `steps`), written by Rasa's writer.

    Args:
        conversation_id: Rasa's sender id.
        events: All its tracker events, oldest first.
        label_of: The trainer's label for a customer message's text, or None.
        name: The story's name.

    Returns:
        The story as ruamel.yaml round-trip data.

    Raises:
        LabelRefused: `no_customer_message` when the current session has none.
    """
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter
    from rasa.shared.core.training_data.structures import Story

    tracker = DialogueStateTracker.from_dict(conversation_id, bot_turns(events, label_of), [])
    applied = tracker.applied_events()  # rewinds undone, only the current session
    if not any(e.type_name == "user" and is_customer_text(e.as_dict()) for e in applied):
        raise LabelRefused("no_customer_message")
    story = Story.from_events(applied, name)
    written = YAMLStoryWriter().stories_to_yaml(story.story_steps, is_test_story=True)
    return _round_trip(written["stories"][0])


def _round_trip(value: Any) -> Any:
    """The writer's ordered dicts and lists as ruamel.yaml's plain round-trip mapping and list."""
    if isinstance(value, dict):
        return CommentedMap((key, _round_trip(item)) for key, item in value.items())
    if isinstance(value, list):
        return CommentedSeq(_round_trip(item) for item in value)
    return value


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def append_story(path: Path, story: CommentedMap, lock_dir: Path) -> None:
    """Appends a story to a stories file (created with its header), keeping everything else.

    Args:
        path: The stories file.
        story: The story (`build_story`).
        lock_dir: Folder of the lock file the data writers share (`data/nlu/`).

    Raises:
        LabelRefused: `broken_file` for a file that does not parse or is no stories file,
            `already_saved` when a story of that name is in it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_dir / ".trainer.lock"), timeout=LOCK_SECONDS):
        source = path.read_text(encoding="utf-8") if path.exists() else HEADER
        try:
            document = _yaml().load(source)
        except YAMLError as problem:
            mark = getattr(problem, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise LabelRefused("broken_file", file=path.name, line=line) from problem
        if not isinstance(document, dict) or not isinstance(document.get("stories") or [], list):
            raise LabelRefused("broken_file", file=path.name, line=None)
        if document.get("stories") is None:
            document["stories"] = CommentedSeq()
        names = [s.get("story") for s in document["stories"] if isinstance(s, dict)]
        if story["story"] in names:
            raise LabelRefused("already_saved", story=story["story"])
        document["stories"].append(story)
        out = io.StringIO()
        _yaml().dump(document, out)
        if path.exists():
            _replace(path, out.getvalue())
        else:
            path.write_text(out.getvalue(), encoding="utf-8")


def trainer_labels(engine: Engine, texts: List[str]) -> Dict[str, str]:
    """The label the trainer gave each of these texts in the inbox (labelled ones only).

    A label belongs to a near-duplicate group, so it is looked up by the text's key.
    """
    keys = {text: dedup_key(text) for text in texts}
    if not keys:
        return {}
    with engine.connect() as db:
        rows = db.execute(
            select(groups.c.text_key, groups.c.label).where(
                groups.c.text_key.in_(sorted(set(keys.values()))),
                groups.c.status == "labelled",
                groups.c.label != "",
            )
        )
        found = dict(rows.all())
    return {text: found[key] for text, key in keys.items() if key in found}
