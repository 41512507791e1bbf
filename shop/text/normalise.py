"""Length-preserving normalisation of how Chinese shoppers type.

Every rule maps one character to exactly one character, so entity offsets
annotated on the original text stay valid on the normalised text and the
original can always be shown next to what the features saw.

Rules, in order:

1. Traditional -> Simplified (OpenCC ``t2s``; per character where a phrase
   conversion would change the length).
2. Full-width -> half-width (ASCII range and the ideographic space) and the
   common CJK punctuation marks -> their ASCII counterparts.
3. Lower case.
4. Emoji, pictographs and their joiners/selectors -> space.
5. Runs of punctuation -> the first mark followed by spaces.
6. Every whitespace or invisible character -> a plain space.
"""

from __future__ import annotations

import functools
import unicodedata

import opencc

_CJK_PUNCTUATION = {
    "。": ".",
    "、": ",",
    "，": ",",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "【": "[",
    "】": "]",
    "《": "<",
    "》": ">",
    "「": '"',
    "」": '"',
    "『": '"',
    "』": '"',
    "～": "~",
    "…": ".",
    "—": "-",
    "·": ".",
}

_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),  # pictographs, emoticons, transport, supplemental symbols
    (0x2600, 0x27BF),  # miscellaneous symbols and dingbats
    (0x2B00, 0x2BFF),  # arrows and stars used as emoji
    (0xFE00, 0xFE0F),  # variation selectors
    (0x1F3FB, 0x1F3FF),  # skin tones
    (0xE0020, 0xE007F),  # tag characters in flag sequences
)
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


@functools.lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Converts Traditional characters to Simplified without changing the length.

    Args:
        text: Any text.

    Returns:
        The text in Simplified characters, exactly as long as ``text``.
    """
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    chars = []
    for char in text:
        single = _converter().convert(char)
        chars.append(single if len(single) == 1 else char)
    return "".join(chars)


def to_half_width(char: str) -> str:
    """Maps a full-width character or CJK punctuation mark to its ASCII form."""
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if code == 0x3000:
        return " "
    return _CJK_PUNCTUATION.get(char, char)


def is_emoji(char: str) -> bool:
    """Tells whether a character is an emoji, pictograph or emoji modifier."""
    code = ord(char)
    if any(low <= code <= high for low, high in _EMOJI_RANGES):
        return True
    return unicodedata.category(char) == "So"


def is_punctuation(char: str) -> bool:
    """Tells whether a character is punctuation (ASCII or Unicode)."""
    return unicodedata.category(char).startswith("P") or char in "~^`|+=<>$"


def _is_blank(char: str) -> bool:
    return char.isspace() or char in _INVISIBLE or unicodedata.category(char) == "Cc"


def _lower(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def normalise(text: str) -> str:
    """Normalises a customer message for the features, keeping its length.

    Args:
        text: The message as the customer typed it.

    Returns:
        The normalised text; ``len(result) == len(text)`` always holds.
    """
    chars = [_lower(to_half_width(char)) for char in to_simplified(text)]
    previous_punctuation = False
    for index, char in enumerate(chars):
        if _is_blank(char) or is_emoji(char):
            chars[index] = " "
            continue
        if is_punctuation(char):
            if previous_punctuation:
                chars[index] = " "
            previous_punctuation = True
        else:
            previous_punctuation = False
    return "".join(chars)
