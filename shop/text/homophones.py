"""Homophone typos of the shop's key words, put right without changing the length.

Chinese shoppers type with pinyin input methods, so their typos are words that sound the same:
快地 for 快递, 为号 for 尾号, 退宽 for 退款. A pair of characters that reads like one of
`SHOP_WORDS` (tones ignored, every reading of a character tried, with pypinyin) is replaced by
that word, only when jieba reads both characters as words of their own: a pair that is itself a
dictionary word (发火, 五六, 保佑) or part of a longer one (有会员, 送到那边) is left alone, and
particles are never read as typos (要快的 stays).

The words are chosen so that the sound-alike pairs that stay are not something a shopper means:
words whose homophones are everyday words (尺码 and 吃吗) are not in the list.
"""

from __future__ import annotations

import functools
import itertools
from typing import Dict, FrozenSet, Tuple

import jieba
from pypinyin import Style, pinyin

# Words customers misspell by sound that decide what they are asking about.
SHOP_WORDS = (
    "快递",
    "单号",
    "尾号",
    "订单",
    "退款",
    "退货",
    "换货",
    "物流",
    "发货",
    "到货",
    "发票",
    "赠品",
    "包邮",
    "客服",
    "售后",
    "到哪",
)
# Particles are what they look like, even where they sound like part of a shop word (要快的).
PARTICLES = frozenset("的了吗呢吧啊么")


@functools.lru_cache(maxsize=4096)
def readings(char: str) -> FrozenSet[str]:
    """Every toneless pinyin reading of a character (empty for anything but a Han character)."""
    if not "\u4e00" <= char <= "\u9fff" or char in PARTICLES:
        return frozenset()
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


@functools.lru_cache(maxsize=1)
def _by_sound() -> Dict[Tuple[str, str], str]:
    sounds: Dict[Tuple[str, str], str] = {}
    for word in SHOP_WORDS:
        for pair in itertools.product(*(sorted(readings(char)) for char in word)):
            sounds.setdefault(pair, word)
    return sounds


def _sounds_like(pair: str) -> str:
    """The shop word two characters sound like, or ''."""
    by_sound = _by_sound()
    for sound in itertools.product(*(readings(char) for char in pair)):
        word = by_sound.get(sound)
        if word:
            return word
    return ""


def correct_homophones(text: str) -> str:
    """Replaces sound-alike typos of the shop's key words (normalised text in, same length out).

    Args:
        text: Normalised text (Simplified, lower case).

    Returns:
        The text with each typo replaced by the word it sounds like; ``len`` is unchanged.
    """
    if not any("\u4e00" <= char <= "\u9fff" for char in text):
        return text
    pieces = [word for word, _, _ in jieba.tokenize(text, HMM=False)]
    starts = list(itertools.accumulate((len(word) for word in pieces), initial=0))
    chars = list(text)
    for index in range(len(pieces) - 1):
        pair = pieces[index] + pieces[index + 1]
        if len(pair) != 2 or pair in SHOP_WORDS:
            continue
        word = _sounds_like(pair)
        if word:
            chars[starts[index] : starts[index] + 2] = word
    return "".join(chars)


__all__ = ["SHOP_WORDS", "correct_homophones", "readings"]
