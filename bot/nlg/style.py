"""Customer personality types and how an answer adapts to them.

Where the style comes from, first that applies:

1. the ``customer_style`` slot, when something in the conversation set it;
2. the signed-in customer's profile (``customers.personality_type``), found through the
   ``customer_id`` + ``customer_proof`` message metadata (:mod:`bot.nlg.profile`);
3. how the customer writes, over their last eight messages (:func:`infer_style`): every cue
   below scores one point per message it appears in; a style is chosen only with at least two
   points and strictly more than every other style. Without such evidence there is no style and
   the answer is left exactly as the persona writes it.

   Messages that answer a question of the assistant say nothing about the customer's type
   ("杭州", "周六上午", "XL", "165cm 55kg" are short or full of figures because of the question)
   and are not counted: a message right after an ``utter_ask_*`` response, one sent while a form
   is active, and one the NLU read as ``inform``. In any other message the entity values
   (product, size, colour, height …) are taken out before the cues are looked for, and the
   short-message cue does not apply to a message that carries entities.

   - dominant 支配型: short, decisive messages: 直接 / 快点 / 赶紧 / 别废话 / 就要 / 最低价 /
     多少钱 / 行不行 / 能不能快, or a message of at most four characters that is not a greeting,
     thanks, a bare number or a message carrying entities;
   - expressive 表现型: feelings and exclamations: 哈哈 / 太…了 / 超级 / 好喜欢 / 爱了 / 绝了 /
     我跟你说 / 宝贝, two or more ! or an emoji;
   - amiable 温和型: undecided, asking for help to choose: 纠结 / 犹豫 / 不知道选 / 选哪个 /
     哪个好 / 帮我选 / 推荐 / 你觉得 / 适合我;
   - analytical 分析型: figures, specs and terms: 参数 / 规格 / 功率 / 尺寸 / 材质 / 成分 /
     数据 / 对比 / 区别 / 具体 / 条款 / 政策 / 保修几年 / 多少瓦 / 能效, or two numbers with units.

How an answer adapts (answers only: questions the assistant asks, greetings, thanks, hand-offs,
error sentences and notices keep their wording):

- dominant: the short answer and the price first: a price fact (``price_yuan``, ``amount``,
  ``refund_amount``, ``threshold``) is put in front as ``¥…｜``, and only the answer's core
  is kept: from the first sentence that carries a fact (the value of a placeholder the
  template filled, or a figure), that sentence and every later one carrying a fact. Leading
  sentences without facts (an address or an interjection such as "宝子！！") are dropped. An
  answer without facts keeps its first sentence of at least eight letters or digits, so it
  never shrinks to an interjection;
- expressive: pre-sale answers start with the persona's acknowledgement
  (``styles.expressive.before``, praise of the customer's taste, out of place before an
  apology or an order status), but not while one of the bot's last four messages already
  carries it;
- amiable: pre-sale answers end with the persona's offer to pick for them
  (``styles.amiable.after``);
- analytical: answers end with the persona's note on figures and policy terms
  (``styles.analytical.after``).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, Optional, Tuple

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
    "utter_greet_again",
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


FORM_ANSWER_INTENTS = ("inform",)
MIN_CORE_CHARS = 8
_WORD = re.compile(r"[^\W_]")


def _without_entities(text: str, entities: List[Mapping[str, Any]]) -> str:
    """The text with its entities' spans (or, without offsets, their values) taken out."""
    spans = sorted(
        (e["start"], e["end"])
        for e in entities
        if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
    )
    kept, position = [], 0
    for start, end in spans:
        kept.append(text[position:start])
        position = max(position, end)
    text = " ".join(kept + [text[position:]])
    for entity in entities:
        if "start" not in entity and isinstance(entity.get("value"), str) and entity["value"]:
            text = text.replace(entity["value"], " ")
    return text


def _messages(events: Iterable[Mapping[str, Any]]) -> List[Tuple[str, bool]]:
    """The customer's last messages that show how they write, as (text, carries entities).

    Answers to the assistant's questions are left out (see the module doc).
    """
    messages: List[Tuple[str, bool]] = []
    asked = False
    form_active = False
    for event in events:
        kind = event.get("event")
        if kind == "active_loop":
            form_active = bool(event.get("name"))
        elif kind == "bot":
            utter = str((event.get("metadata") or {}).get("utter_action") or "")
            asked = utter.startswith("utter_ask_")
        elif kind == "action" and event.get("name") != "action_listen":
            asked = str(event.get("name") or "").startswith("utter_ask_")
        elif kind == "user":
            text = str(event.get("text") or "")
            parse = event.get("parse_data") or {}
            intent = str((parse.get("intent") or {}).get("name") or "")
            entities = [e for e in parse.get("entities") or [] if isinstance(e, Mapping)]
            answer = asked or form_active or intent in FORM_ANSWER_INTENTS
            asked = False
            if answer or not text.strip() or text.strip().startswith("/"):
                continue
            if entities:
                text = _without_entities(text, entities)
            messages.append((text.strip().lower(), bool(entities)))
    return messages[-WINDOW:]


def infer_style(events: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """Infer the customer's personality type from how they write (rules in the module doc).

    Args:
        events: The tracker's events, oldest first (texts as the customer wrote them;
            Traditional is compared after conversion to Simplified).

    Returns:
        One of :data:`STYLES`, or None without enough evidence.
    """
    from shop.text.normalise import to_simplified

    scores = dict.fromkeys(STYLES, 0)
    for text, has_entities in _messages(events):
        text = to_simplified(text)
        short = (
            not has_entities
            and len(text) <= 4
            and not _SHORT_SKIP.match(text)
            and not text.isdigit()
        )
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


def _short(text: str, values: List[str]) -> str:
    """The answer's core: the sentences carrying facts, from the first one on (module doc)."""
    sentences = _SENTENCE.findall(text)
    if len(sentences) <= 1:
        return text

    def carries_fact(sentence: str) -> bool:
        return bool(re.search(r"\d", sentence)) or any(v in sentence for v in values)

    first = next((i for i, s in enumerate(sentences) if carries_fact(s)), None)
    if first is not None:
        kept = [sentences[first]] + [s for s in sentences[first + 1 :] if carries_fact(s)]
    else:
        core = [s for s in sentences if len(_WORD.findall(s)) >= MIN_CORE_CHARS]
        kept = core[:1] or sentences[:1]
    return "".join(kept).strip()


def adapt(
    text: str,
    response: str,
    style: Optional[str],
    frames: Mapping[str, Mapping[str, str]],
    facts: Mapping[str, Any],
    used: Optional[Iterable[str]] = None,
) -> str:
    """Adapt a filled answer to the customer's style (see the module doc).

    Args:
        text: The filled text in the persona's voice.
        response: The response name.
        style: The customer's style, or None (then the text is returned unchanged).
        frames: The persona's ``styles`` section: ``{style: {"before": ..., "after": ...}}``.
        facts: The facts the text was filled from.
        used: The names of the facts the template filled in (its placeholders); None means
            every fact given.

    Returns:
        The adapted text.
    """
    if style not in STYLES or not applies_to(response):
        return text
    frame = frames.get(style) or {}
    if style == "dominant":
        names = facts if used is None else used
        values = [str(facts[n]).strip() for n in names if facts.get(n) not in (None, "")]
        text = _short(text, [v for v in values if v])
        price = _price(facts)
        return f"¥{price}｜{text}" if price else text
    if style == "expressive":
        return f"{frame.get('before', '')}{text}" if is_presale(response) else text
    if style == "amiable":
        return f"{text}{frame.get('after', '')}" if is_presale(response) else text
    return f"{text}{frame.get('after', '')}"
