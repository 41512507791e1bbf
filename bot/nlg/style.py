"""Customer personality types and how an answer adapts to them.

Where the style comes from, first that applies:

1. the ``customer_style`` slot, when something in the conversation set it;
2. the signed-in customer's profile (``customers.personality_type``), found through the
   ``customer_id`` + ``customer_sig`` message metadata (:mod:`bot.nlg.profile`);
3. how the customer writes, over their last eight messages (:func:`infer_style`): every cue
   below scores one point per message it appears in; a style is chosen only with at least two
   points and strictly more than every other style. Without such evidence there is no style and
   the answer is left exactly as the persona writes it.

   - dominant 支配型: short, decisive messages: 直接 / 快点 / 赶紧 / 别废话 / 就要 / 最低价 /
     多少钱 / 行不行 / 能不能快, or a message of at most four characters that is not a greeting
     or thanks;
   - expressive 表现型: feelings and exclamations: 哈哈 / 太…了 / 超级 / 好喜欢 / 爱了 / 绝了 /
     我跟你说 / 宝贝, two or more ! or an emoji;
   - amiable 温和型: undecided, asking for help to choose: 纠结 / 犹豫 / 不知道选 / 选哪个 /
     哪个好 / 帮我选 / 推荐 / 你觉得 / 适合我;
   - analytical 分析型: figures, specs and terms: 参数 / 规格 / 功率 / 尺寸 / 材质 / 成分 /
     数据 / 对比 / 区别 / 具体 / 条款 / 政策 / 保修几年 / 多少瓦 / 能效, or two numbers with units.

How an answer adapts (answers only: questions the assistant asks, greetings, thanks, hand-offs,
error sentences and notices keep their wording):

- dominant: the short answer and the price first: a price fact (``price_yuan``, ``amount``,
  ``refund_amount``, ``threshold``) is put in front as ``¥…｜``, and only the first sentence
  and the sentences carrying a figure are kept;
- expressive: the persona's acknowledgement goes in front (``styles.expressive.before``),
  but not while one of the bot's last four messages already carries it;
- amiable: pre-sale answers end with the persona's offer to pick for them
  (``styles.amiable.after``);
- analytical: answers end with the persona's note on figures and policy terms
  (``styles.analytical.after``).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

STYLES = ("dominant", "expressive", "amiable", "analytical")
WINDOW = 8
MIN_SCORE = 2

_CUES = {
    "dominant": re.compile(r"直接|快点|赶紧|别废话|就要|最低价|多少钱|行不行|能不能快"),
    "expressive": re.compile(
        r"哈哈|太.{1,4}了|超级|好喜欢|爱了|绝了|我跟你说|宝贝|[!！].*[!！]|[\U0001F300-\U0001FAFF]"
    ),
    "amiable": re.compile(r"纠结|犹豫|不知道选|选哪个|哪个好|帮我选|推荐|你觉得|适合我"),
    "analytical": re.compile(
        r"参数|规格|功率|尺寸|材质|成分|数据|对比|区别|具体|条款|政策|保修几年|多少瓦|能效"
        r"|\d+\s*(?:mm|cm|kg|w|瓦|升|l|克|g|米).*\d+\s*(?:mm|cm|kg|w|瓦|升|l|克|g|米)",
        re.IGNORECASE,
    ),
}
_SHORT_SKIP = re.compile(r"^(?:你好|您好|在吗|亲|谢谢|好的|嗯|拜拜|ok|好|是|对|不用|没有)")

NO_STYLE_PREFIXES = ("utter_ask_", "utter_invalid_", "utter_notice_")
NO_STYLE = {
    "utter_greet",
    "utter_goodbye",
    "utter_thank",
    "utter_anything_else",
    "utter_deny_ack",
    "utter_iamabot",
    "utter_handoff",
    "utter_chitchat",
    "utter_persona_changed",
    "utter_shop_unavailable",
    "utter_default",
    "utter_inform_ack",
}
PRESALE_PREFIXES = (
    "utter_authenticity",
    "utter_discount",
    "utter_gift",
    "utter_stock_",
    "utter_product_info",
    "utter_size_advice",
    "utter_delivery_",
    "utter_free_shipping_",
    "utter_installation_info",
    "utter_warranty",
    "utter_membership",
)
PRICE_FACTS = ("price_yuan", "amount", "refund_amount", "threshold")
_SENTENCE = re.compile(r"[^。！？!?~\n]+[。！？!?~\n]*")


def _messages(events: Iterable[Mapping[str, Any]]) -> list:
    texts = [
        (event.get("text") or "").strip().lower()
        for event in events
        if event.get("event") == "user"
    ]
    return [text for text in texts if text and not text.startswith("/")][-WINDOW:]


def infer_style(events: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """Infer the customer's personality type from how they write (rules in the module doc).

    Args:
        events: The tracker's events, oldest first (texts as the customer wrote them;
            Traditional is compared after conversion to Simplified).

    Returns:
        One of :data:`STYLES`, or None without enough evidence.
    """
    from bot.nlu.normalise import to_simplified

    scores = dict.fromkeys(STYLES, 0)
    for text in _messages(events):
        text = to_simplified(text)
        short = len(text) <= 4 and not _SHORT_SKIP.match(text) and not text.isdigit()
        for style, cue in _CUES.items():
            if cue.search(text) or (style == "dominant" and short):
                scores[style] += 1
    best = max(STYLES, key=lambda style: scores[style])
    others = [scores[style] for style in STYLES if style != best]
    if scores[best] >= MIN_SCORE and scores[best] > max(others):
        return best
    return None


def applies_to(response: str) -> bool:
    """Whether a response is an answer that adapts to the customer's style."""
    return response not in NO_STYLE and not response.startswith(NO_STYLE_PREFIXES)


def is_presale(response: str) -> bool:
    """Whether a response is a pre-sale answer (where helping to choose makes sense)."""
    return response.startswith(PRESALE_PREFIXES)


def _price(facts: Mapping[str, Any]) -> Optional[str]:
    for name in PRICE_FACTS:
        value = facts.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def _short(text: str, facts: Mapping[str, Any]) -> str:
    sentences = _SENTENCE.findall(text)
    if len(sentences) <= 1:
        return text
    kept = [sentences[0]] + [s for s in sentences[1:] if re.search(r"\d", s)]
    return "".join(kept).rstrip("\n")


def adapt(
    text: str,
    response: str,
    style: Optional[str],
    frames: Mapping[str, Mapping[str, str]],
    facts: Mapping[str, Any],
) -> str:
    """Adapt a filled answer to the customer's style (see the module doc).

    Args:
        text: The filled text in the persona's voice.
        response: The response name.
        style: The customer's style, or None (then the text is returned unchanged).
        frames: The persona's ``styles`` section: ``{style: {"before": ..., "after": ...}}``.
        facts: The facts the text was filled from.

    Returns:
        The adapted text.
    """
    if style not in STYLES or not applies_to(response):
        return text
    frame = frames.get(style) or {}
    if style == "dominant":
        text = _short(text, facts)
        price = _price(facts)
        return f"¥{price}｜{text}" if price else text
    if style == "expressive":
        return f"{frame.get('before', '')}{text}"
    if style == "amiable":
        return f"{text}{frame.get('after', '')}" if is_presale(response) else text
    return f"{text}{frame.get('after', '')}"
