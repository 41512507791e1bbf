"""How angry a customer message reads, from its words, emoji and punctuation (pure, no I/O).

The console queues a conversation for a person when a customer is furious, before the bot
makes things worse. This module only reads one message's text; what to do with the score is
the caller's business.

Text is prepared first: Traditional characters become Simplified and full-width characters
half-width (with `shop.text.normalise`, character by character), and the text is lower-cased.
Emoji and punctuation runs are kept, because they are signals here. Phrases that only look
abusive (滚筒洗衣机, 垃圾桶, 工商银行, 多媒体) are blanked out before any word is matched.

Scoring: every signal found adds its weight, and the sum is capped at 1.0. Words are matched
list by list (furious, then threats, then annoyed), and each match is blanked out before the
next list, so "太过分了" counts once as furious and not again as the annoyed "过分".

- Each distinct furious or abusive word (`FURIOUS_WORDS`: 气死, 骗子, 垃圾, 什么破, 滚, tmd …)
  adds `FURIOUS_WEIGHT` (0.6): one such word on its own is angry.
- Each distinct annoyed word (`ANNOYED_WORDS`: 退钱, 差评, 投诉, 无语, 到底, 人呢 …) adds
  `ANNOYED_WEIGHT` (0.25): an ordinary complaint with one of them is not angry.
- Each distinct threat word (`THREAT_WORDS`: 曝光, 12315, 消协, 工商, 媒体, 报警 …) adds
  `THREAT_WEIGHT` (0.4); when a threat word or 差评 comes with a condition
  (`THREAT_MARKERS`: 不然, 否则, 再不, 我就 …) the threat adds `CONDITIONAL_THREAT_WEIGHT` (0.3)
  once more ("再不处理我就给差评" is angry, "这个差评能删吗" is not).
- Each angry emoji or chat emoticon (`ANGRY_EMOJI`: 😡🤬💢👊 …, `ANGRY_EMOTICONS`: [发怒] …)
  adds `EMOJI_WEIGHT` (0.3), at most `EMOJI_CAP` (0.6) together.
- The longest run of exclamation marks adds 0.2 for `!!`, 0.3 for three or four, 0.4 for five
  or more; a run of three or more question marks, or a run mixing both (`?!`), adds 0.25.
- Three or more separate exclamations in one message add 0.2.
- The same complaint repeated (a clause said twice, or a phrase of two different characters or
  more said three times in a row, such as 快点快点快点) adds `REPEAT_WEIGHT` (0.25); laughter
  and doubled words (哈哈哈, 谢谢谢谢) are not repetition.

Words written in Latin letters or digits (tmd, sb, 12315) only count as whole words, so "usb"
and order numbers never match. A message is angry when its score reaches `ANGRY_THRESHOLD`
(0.5): one furious word, a conditional threat, two angry emoji, or an annoyed word with a run of
exclamation marks. Punctuation alone ("怎么还没到！！！") stays below the threshold.
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Pattern, Set, Tuple

from shop.text.normalise import to_half_width, to_simplified

ANGRY_THRESHOLD = 0.5

FURIOUS_WEIGHT = 0.6
ANNOYED_WEIGHT = 0.25
THREAT_WEIGHT = 0.4
CONDITIONAL_THREAT_WEIGHT = 0.3
EMOJI_WEIGHT = 0.3
EMOJI_CAP = 0.6
REPEAT_WEIGHT = 0.25
REPEATED_EXCLAMATIONS_WEIGHT = 0.2
QUESTION_RUN_WEIGHT = 0.25
# (shortest run of "!", weight), longest first.
EXCLAMATION_RUNS = ((5, 0.4), (3, 0.3), (2, 0.2))

# All lists are matched after normalisation, so they hold Simplified, half-width, lower case.
FURIOUS_WORDS = (
    "气死",
    "气炸",
    "肺都气",
    "火大",
    "很生气",
    "非常生气",
    "太生气",
    "骗子",
    "骗钱",
    "骗人",
    "诈骗",
    "垃圾",
    "坑人",
    "坑爹",
    "坑钱",
    "坑死",
    "黑心",
    "黑店",
    "奸商",
    "什么破",
    "破玩意",
    "什么玩意",
    "烂货",
    "恶心",
    "忍无可忍",
    "忍不了",
    "受够了",
    "欺人太甚",
    "太过分",
    "过分了",
    "滚",
    "去死",
    "要疯了",
    "疯了",
    "烦死了",
    "你们有病",
    "有病吧",
    "有病啊",
    "脑残",
    "智障",
    "废物",
    "不要脸",
    "无耻",
    "良心不会痛",
    "妈的",
    "他妈",
    "尼玛",
    "tmd",
    "nmd",
    "cnm",
    "wtf",
    "sb",
    "傻逼",
    "傻b",
    "煞笔",
)
ANNOYED_WORDS = (
    "退钱",
    "差评",
    "投诉",
    "生气",
    "过分",
    "无语",
    "离谱",
    "我服了",
    "服了你",
    "气人",
    "到底",
    "人呢",
    "凭什么",
    "什么态度",
    "说好的",
    "敷衍",
    "糊弄",
    "忽悠",
    "踢皮球",
    "耍我",
    "搞什么",
    "别废话",
    "多少遍",
    "多少次",
    "没完没了",
    "一而再",
    "差劲",
)
THREAT_WORDS = (
    "曝光",
    "12315",
    "消协",
    "消费者协会",
    "工商",
    "市场监管",
    "媒体",
    "记者",
    "报警",
    "律师",
    "起诉",
    "法院",
    "黑猫投诉",
)
# A condition that turns a threat word (or 差评) into a threat to the shop.
THREAT_MARKERS = (
    "不然",
    "否则",
    "要不然",
    "再不",
    "不给",
    "不处理",
    "不解决",
    "等着",
    "我就",
    "就去",
    "就给",
    "就找",
    "马上去",
)
CONDITIONAL_THREAT_TARGETS = ("差评",)
# Phrases that contain a listed word but are innocent (products, banks, camera settings).
EXEMPT_PHRASES = (
    "滚筒",
    "滚轮",
    "滚动",
    "滚珠",
    "滚刷",
    "滚梯",
    "滚烫",
    "垃圾桶",
    "垃圾袋",
    "垃圾篓",
    "垃圾箱",
    "垃圾分类",
    "垃圾处理",
    "垃圾短信",
    "工商银行",
    "工商局网站",
    "多媒体",
    "媒体播放",
    "曝光补偿",
    "曝光时间",
    "黑心棉",
    "到底部",
    "妈妈",
)
ANGRY_EMOJI = ("😡", "🤬", "💢", "👊", "😠", "😤", "🖕", "💣", "🔪")
# WeChat/QQ emoticon codes as they arrive in text (full-width brackets are normalised).
ANGRY_EMOTICONS = ("[发怒]", "[怒]", "[抓狂]", "[炸弹]", "[菜刀]", "[拳头]", "[鄙视]", "[便便]")

_CLAUSE_SPLIT = re.compile(r"[\s,.;:!?~\"'()\[\]<>-]+")
# A phrase of 2-8 characters said three times or more in a row.
_REPEATED_PHRASE = re.compile(r"(\w{2,8}?)\1{2,}")


def prepare(text: str) -> str:
    """Prepares a message for matching: Simplified, half-width, lower case, same length.

    Args:
        text: The message as the customer typed it.

    Returns:
        The prepared text; emoji and punctuation runs are kept.
    """
    chars = []
    for char in to_simplified(text):
        half = to_half_width(char).lower()
        chars.append(half if len(half) == 1 else char)
    return "".join(chars)


def _blank_exempt(text: str) -> str:
    for phrase in EXEMPT_PHRASES:
        text = text.replace(phrase, " " * len(phrase))
    return text


def _word_pattern(word: str) -> str:
    escaped = re.escape(word)
    if word.isascii() and word.isalnum():
        return rf"(?<![a-z0-9]){escaped}(?![a-z0-9])"
    return escaped


@functools.lru_cache(maxsize=None)
def _pattern(words: tuple) -> Pattern[str]:
    longest_first = sorted(words, key=len, reverse=True)
    return re.compile("|".join(_word_pattern(word) for word in longest_first))


def _take(words: tuple, text: str) -> Tuple[Set[str], str]:
    """The distinct listed words in the text, and the text with them blanked out."""
    pattern = _pattern(words)
    found = {match.group(0) for match in pattern.finditer(text)}
    return found, pattern.sub(lambda match: " " * len(match.group(0)), text)


def _runs(text: str, marks: str) -> Iterable[str]:
    return re.findall(f"[{re.escape(marks)}]+", text)


def _punctuation_score(text: str) -> float:
    score = 0.0
    exclamations = list(_runs(text, "!"))
    longest = max((len(run) for run in exclamations), default=0)
    for shortest, weight in EXCLAMATION_RUNS:
        if longest >= shortest:
            score += weight
            break
    mixed = any("!" in run and "?" in run for run in _runs(text, "!?"))
    if mixed or any(len(run) >= 3 for run in _runs(text, "?")):
        score += QUESTION_RUN_WEIGHT
    if len(exclamations) >= 3:
        score += REPEATED_EXCLAMATIONS_WEIGHT
    return score


def _repeats_itself(text: str) -> bool:
    clauses = [clause for clause in _CLAUSE_SPLIT.split(text) if len(clause) >= 2]
    if len(clauses) != len(set(clauses)):
        return True
    return any(len(set(match.group(1))) >= 2 for match in _REPEATED_PHRASE.finditer(text))


def anger_of(text: str) -> float:
    """How angry a customer message reads, from 0.0 (calm) to 1.0 (furious).

    The scoring rules are described in the module docstring.

    Args:
        text: The message as the customer typed it (Simplified or Traditional, any width).

    Returns:
        The anger score, capped at 1.0.
    """
    prepared = prepare(text or "")
    words = _blank_exempt(prepared)
    furious, rest = _take(FURIOUS_WORDS, words)
    threats, rest = _take(THREAT_WORDS, rest)
    annoyed, rest = _take(ANNOYED_WORDS, rest)
    score = FURIOUS_WEIGHT * len(furious) + THREAT_WEIGHT * len(threats)
    score += ANNOYED_WEIGHT * len(annoyed)
    targets = threats or annoyed.intersection(CONDITIONAL_THREAT_TARGETS)
    if targets and _take(THREAT_MARKERS, rest)[0]:
        score += CONDITIONAL_THREAT_WEIGHT
    emoji = sum(prepared.count(mark) for mark in ANGRY_EMOJI + ANGRY_EMOTICONS)
    score += min(EMOJI_CAP, EMOJI_WEIGHT * emoji)
    score += _punctuation_score(prepared)
    if _repeats_itself(words):
        score += REPEAT_WEIGHT
    return round(min(1.0, score), 3)


def is_angry(text: str) -> bool:
    """Tells whether a customer message is angry enough for a person to step in.

    Args:
        text: The message as the customer typed it.

    Returns:
        True when `anger_of(text)` reaches `ANGRY_THRESHOLD`.
    """
    return anger_of(text) >= ANGRY_THRESHOLD
