"""Labelled examples written into the topic files of `data/nlu/`, keeping everything else.

The files stay the source of truth. An example is appended to the `examples` block of its
intent in whichever topic file holds that intent, by round-trip YAML editing (ruamel.yaml): every
other line, comment, lookup table, synonym and regex stays as it was, byte for byte. Before
anything is written:

- the text is cleaned (one line) and must not already carry Rasa's entity markup;
- an example that equals one already in the data after normalisation is refused as a duplicate,
  and one whose text is in the data under another intent as a contradiction; the held-out set
  must not be trained on either;
- a file that does not parse, or whose rewrite would change more than the one added line, is
  reported and never overwritten.

Writers take one file lock for `data/nlu/` and read the files again under it, so two trainers
labelling at once both keep their examples; a file changed by hand between reading and writing
is read again.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from filelock import FileLock
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.trainer import tokens

MAX_TEXT_CHARS = 200
LOCK_SECONDS = 15
_MARKUP = re.compile(r"\[[^\]]+?\](\(|\{|\[)")
_BLANKS = re.compile(r"\s+")


class LabelRefused(ValueError):
    """A label that is not written, with a code the page explains and the facts it names.

    Attributes:
        code: `empty`, `too_long`, `markup`, `unknown_intent`, `unknown_entity`, `bad_span`,
            `duplicate`, `contradiction`, `in_heldout`, `intent_not_in_data`, `broken_file`,
            `changed_meanwhile`, `bad_word`, `word_known`.
        detail: What the message names (file, line, the example it collides with, ...).
    """

    def __init__(self, code: str, **detail: object) -> None:
        """Keeps the code and the facts."""
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Entity:
    """An entity annotation: the character span of the text and the entity's name."""

    start: int
    end: int
    entity: str


@dataclass(frozen=True)
class Written:
    """Where an example went."""

    file: str
    intent: str
    line: str


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def clean_text(text: object) -> str:
    """The example as one line without outer blanks; refused when empty, long or marked up."""
    cleaned = _BLANKS.sub(" ", str(text or "")).strip()
    if not cleaned:
        raise LabelRefused("empty")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise LabelRefused("too_long", most=MAX_TEXT_CHARS)
    if _MARKUP.search(cleaned):
        raise LabelRefused("markup")
    return cleaned


def annotate(text: str, entities: Sequence[Entity]) -> str:
    """The example line in Rasa's format: `[span](entity)` around each annotated span.

    Raises:
        LabelRefused: `bad_span` for a span that splits a jieba token or overlaps another.
    """
    spans: List[Tuple[int, int, str]] = []
    for entity in entities:
        try:
            start, end = tokens.snap(text, entity.start, entity.end)
        except tokens.SpanRefused as refused:
            raise LabelRefused(
                "bad_span",
                reason=refused.code,
                token=refused.token,
                whole=list(refused.whole) if refused.whole else None,
            ) from refused
        spans.append((start, end, entity.entity))
    spans.sort()
    for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise LabelRefused("bad_span", reason="overlap")
    line = text
    for start, end, name in reversed(spans):
        line = f"{line[:start]}[{line[start:end]}]({name}){line[end:]}"
    return line


def _plain(example: str) -> str:
    from rasa.shared.nlu.training_data.entities_parser import replace_entities

    return replace_entities(example)


def _example_lines(block: object) -> List[str]:
    if not isinstance(block, str):
        return []
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("-")]


@dataclass
class _File:
    path: Path
    source: str
    document: object
    stamp: Tuple[int, int]


def _read(path: Path) -> _File:
    source = path.read_text(encoding="utf-8")
    stat = path.stat()
    try:
        document = _yaml().load(source)
    except YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise LabelRefused("broken_file", file=path.name, line=line) from problem
    if document is None:
        document = {}
    nlu = document.get("nlu") if hasattr(document, "get") else None
    if not isinstance(document, dict) or (nlu is not None and not isinstance(nlu, list)):
        raise LabelRefused("broken_file", file=path.name, line=None)
    return _File(path, source, document, (stat.st_mtime_ns, stat.st_size))


def _items(document: object) -> Iterable[dict]:
    for item in (document.get("nlu") or []) if isinstance(document, dict) else []:
        if isinstance(item, dict):
            yield item


class DataFiles:
    """The NLU topic files of a workspace, and the held-out set examples must stay out of."""

    def __init__(self, nlu_dir: Path, heldout: Optional[Path] = None) -> None:
        """Reads nothing yet.

        Args:
            nlu_dir: `data/nlu/`.
            heldout: The held-out set (its examples are refused for training).
        """
        self.nlu_dir = nlu_dir
        self.heldout = heldout
        self.lock = FileLock(str(nlu_dir / ".trainer.lock"), timeout=LOCK_SECONDS)

    def paths(self) -> List[Path]:
        """The topic files, by name."""
        return sorted(p for p in self.nlu_dir.glob("*.yml") if p.is_file())

    def read_all(self) -> Dict[Path, _File]:
        """Every topic file parsed.

        Raises:
            LabelRefused: `broken_file` naming the first file that does not parse.
        """
        return {path: _read(path) for path in self.paths()}

    def known_examples(self, files: Dict[Path, _File]) -> Dict[str, Tuple[str, str, str]]:
        """Key after normalisation → (intent, file name, example) of every training example."""
        known: Dict[str, Tuple[str, str, str]] = {}
        for path, parsed in files.items():
            for item in _items(parsed.document):
                intent = item.get("intent")
                if not isinstance(intent, str):
                    continue
                for example in _example_lines(item.get("examples")):
                    known.setdefault(
                        tokens.dedup_key(_plain(example)), (intent, path.name, example)
                    )
        return known

    def heldout_keys(self) -> Dict[str, str]:
        """Key → intent of every held-out example."""
        if self.heldout is None or not self.heldout.exists():
            return {}
        found: Dict[str, str] = {}
        for item in _items(_read(self.heldout).document):
            for example in _example_lines(item.get("examples")):
                found[tokens.dedup_key(_plain(example))] = str(item.get("intent"))
        return found

    def intents_in_data(self) -> Dict[str, str]:
        """Intent → the topic file that holds its examples."""
        owners: Dict[str, str] = {}
        for path, parsed in self.read_all().items():
            for item in _items(parsed.document):
                if isinstance(item.get("intent"), str):
                    owners.setdefault(item["intent"], path.name)
        return owners

    def add(self, text: str, intent: str, entities: Sequence[Entity] = ()) -> Written:
        """Appends one labelled example to its intent's block.

        Args:
            text: The customer's message (cleaned by `clean_text`).
            intent: The intent it means.
            entities: Entity spans on its jieba tokens.

        Returns:
            Where it was written.

        Raises:
            LabelRefused: for any of the reasons in the module's description.
        """
        text = clean_text(text)
        line = annotate(text, entities)
        key = tokens.dedup_key(text)
        with self.lock:
            for _attempt in range(3):
                files = self.read_all()
                known = self.known_examples(files)
                if key in known:
                    other_intent, file_name, example = known[key]
                    code = "duplicate" if other_intent == intent else "contradiction"
                    raise LabelRefused(code, intent=other_intent, file=file_name, example=example)
                heldout = self.heldout_keys().get(key)
                if heldout is not None:
                    raise LabelRefused("in_heldout", intent=heldout)
                target = self._block(files, intent)
                if target is None:
                    raise LabelRefused("intent_not_in_data", intent=intent)
                parsed, item = target
                if self._write(parsed, item, line):
                    return Written(parsed.path.name, intent, line)
            raise LabelRefused("changed_meanwhile")

    @staticmethod
    def _block(files: Dict[Path, _File], intent: str) -> Optional[Tuple[_File, dict]]:
        for parsed in files.values():
            for item in _items(parsed.document):
                if item.get("intent") == intent:
                    return parsed, item
        return None

    @staticmethod
    def _write(parsed: _File, item: dict, line: str) -> bool:
        """Writes the file with the line added; False when it changed on disk meanwhile."""
        block = item.get("examples")
        if block is not None and not isinstance(block, str):
            raise LabelRefused("broken_file", file=parsed.path.name, line=None)
        old = str(block or "")
        if old and not old.endswith("\n"):
            old += "\n"
        item["examples"] = LiteralScalarString(f"{old}- {line}\n")
        out = io.StringIO()
        _yaml().dump(parsed.document, out)
        rewritten = out.getvalue()
        before, after = parsed.source.splitlines(), rewritten.splitlines()
        if len(after) != len(before) + 1 or sorted(set(after) - set(before)) not in (
            [f"    - {line}"],
            [],
        ):
            # anything but exactly one added line would change what a person wrote
            raise LabelRefused("broken_file", file=parsed.path.name, line=None)
        stat = parsed.path.stat()
        if (stat.st_mtime_ns, stat.st_size) != parsed.stamp:
            return False
        _replace(parsed.path, rewritten)
        return True


def _replace(path: Path, content: str) -> None:
    """Writes a file atomically (a temporary file in the same folder, then a rename)."""
    mode = path.stat().st_mode & 0o777
    handle, temporary = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def add_dictionary_word(dictionary: Path, word: str, lock_dir: Path) -> str:
    """Adds a word to a jieba user dictionary file (`word frequency`), once.

    Args:
        dictionary: The file (`data/dicts/shop.txt`).
        word: The word as the trainer typed it (stored normalised, as the tokenizer sees it).
        lock_dir: Folder of the lock file shared with the example writers.

    Returns:
        The word as stored.

    Raises:
        LabelRefused: `bad_word` for blanks or a length outside 2–20, `word_known` when the
            dictionary already has it.
    """
    from shop.text.normalise import normalise

    stored = normalise(str(word or "").strip())
    if not tokens.valid_word(stored):
        raise LabelRefused("bad_word", most=tokens.MAX_WORD_CHARS)
    with FileLock(str(lock_dir / ".trainer.lock"), timeout=LOCK_SECONDS):
        existing = dictionary.read_text(encoding="utf-8") if dictionary.exists() else ""
        if stored in {line.split()[0] for line in existing.splitlines() if line.split()}:
            raise LabelRefused("word_known", word=stored)
        separator = "" if not existing or existing.endswith("\n") else "\n"
        with dictionary.open("a", encoding="utf-8") as out:
            out.write(f"{separator}{stored} {tokens.DEFAULT_WORD_FREQUENCY}\n")
    tokens.add_word(stored)
    return stored
