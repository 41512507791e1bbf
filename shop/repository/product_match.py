"""Which of the shop's products a piece of text names: the one product matcher.

Text and product names are compared after `shop.text.normalise` (Traditional to Simplified,
full-width to half-width, lower case), so ｔ７, T7 and t7 are one model code. The rules, in order:

1. Model codes (a few Latin letters and digits: T7, H20, h16z). When the text names one, only the
   products of that model can match; a model the shop does not have matches nothing.
2. Names: a product whose name (with or without its brand), or the longest tail of it (纯棉T恤,
   T恤), is in the text; a short query may also be a part of a name (碧根果, 顶吸式油烟机).
3. Categories and brands as customers call them (抽油烟机, 裤子, 厨匠): every product of it.
4. Typos (a query only, never a whole message): names close enough by `difflib`.

Several products matching equally well are all returned: the caller asks which one is meant.

Two readings of a whole message help the resolver where no name matches: `sold_question_subject`
(the thing of a "do you sell X" question, 有没有卖空气炸锅, so that it can be said not sold) and
`refers_to_this` (这件, 这款, 它: the product the customer is looking at).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import Product
from shop.text import inputs
from shop.text.normalise import normalise

# What customers call a category -> the category as stored.
CATEGORY_ALIASES = {
    "抽油烟机": "油烟机",
    "吸油烟机": "油烟机",
    "烟机": "油烟机",
    "煤气灶": "燃气灶",
    "灶具": "燃气灶",
    "灶台": "燃气灶",
    "燃气热水器": "热水器",
    "电热水器": "热水器",
    "香薰": "精油",
    "面霜": "护肤",
    "爽肤水": "护肤",
    "精华": "护肤",
    "面膜": "护肤",
    "裤子": "裤装",
    "牛仔裤": "裤装",
    "裙子": "裙装",
    "连衣裙": "裙装",
    "衣服": "上衣",
    "鞋子": "鞋",
    "运动鞋": "鞋",
    "婴儿奶粉": "奶粉",
    "干果": "坚果",
}
# A model code: one to three Latin letters, one to three digits, maybe a letter (T7, H16Z, A2).
# Longer runs (tracking numbers, iphone15) are not model codes.
MODEL_CODE = re.compile(r"(?<![a-z0-9])[a-z]{1,3}[0-9]{1,3}[a-z]?(?![a-z0-9])")
MIN_NAME_PART = 2
TYPO_CUTOFF = 0.6
TYPO_MARGIN = 0.05
SUGGESTION_CUTOFF = 0.3
SUGGESTION_COUNT = 3
MAX_QUERY = 50
MAX_MESSAGE = 200

_THING = r"(?![的吗么嘛呢没了啊呀吧])(?P<thing>[\u4e00-\u9fffa-z0-9]{2,12}?)"
_THING_END = r"(?=吗|么|嘛|呢|不|没|啊|呀|吧|的|嘞|哇|$|[^\u4e00-\u9fffa-z0-9])"
# "Do you sell X" as shoppers ask it (squashed text): 有卖X吗, 有没有卖X, 卖不卖X, 你们卖X吗, 有X卖吗.
SOLD_QUESTIONS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?:有没有|有木有|有没|有无|有在|有)卖" + _THING + _THING_END,
        r"卖(?:不卖|没卖)" + _THING + _THING_END,
        r"(?:你们|你家|你们家|贵店|店里|店铺|这家|这边)(?:还|也|都)?(?:在)?卖"
        + _THING
        + r"(?=吗|么|嘛|不|没|呢)",
        r"有" + _THING + r"(?:的)?卖(?=吗|么|嘛|不|没|呢|$)",
    )
)
# Words before the thing that are not part of it, and things that are no product.
THING_LEAD = re.compile(r"^(?:那种|这种|那个|这个|一种|一款|一个|那款|这款|什么样的)")
NOT_A_THING = (
    *("什么", "啥", "哪些", "哪种", "东西", "其他", "其它", "别的", "多少", "几"),
    *("现在", "目前", "今天", "还有", "这里", "这边", "你们", "店里", "这个", "那个"),
    *("假货", "假的", "正品", "山寨", "高仿", "仿品", "盗版", "二手"),
)
# A colour, size, flavour or other variant word is no product (有卖黑色的吗, 有卖XL码吗).
VARIANT_WORD = re.compile(r"(?:色|码|号|尺码|尺寸|口味|味|规格|款式|颜色|的|还)$|^[a-z0-9]+$")
# The product the customer is looking at: 这件, 这一款, 此款, 它 (not 其它).
THIS_ONE = re.compile(
    r"这一?(?:个|件|款|台|种|只|双|条|瓶|套|盒|包|罐|支|把|部|顶|袋|份|样东西)|此款|此商品|(?<!其)它"
)


def squash(text: Any, max_len: int = MAX_MESSAGE) -> str:
    """Text as it is compared: normalised (Simplified, half-width, lower case), without spaces."""
    if isinstance(text, str):
        return _squashed(text, max_len)
    return "".join(normalise(inputs.clean_text(text, max_len)).split())


@functools.lru_cache(maxsize=8192)
def _squashed(text: str, max_len: int) -> str:
    # every product name is compared with every message: normalising (OpenCC) each name once
    # per process, not once per comparison, was most of the action server's time
    return "".join(normalise(inputs.clean_text(text, max_len)).split())


def sold_question_subject(text: Any) -> str:
    """The thing a "do you sell X" question asks about (squashed), or "".

    你们家有卖空气炸锅吗 -> "空气炸锅"; 有没有卖那种电饭煲 -> "电饭煲"; 还有卖的吗 -> "".
    """
    said = squash(text)
    for pattern in SOLD_QUESTIONS:
        found = pattern.search(said)
        if found is None:
            continue
        thing = THING_LEAD.sub("", found.group("thing"))
        if (
            len(thing) >= MIN_NAME_PART
            and not any(word in thing for word in NOT_A_THING)
            and not VARIANT_WORD.search(thing)
        ):
            return thing
    return ""


def refers_to_this(text: Any) -> bool:
    """Whether a message speaks of "this one" (这件, 这款, 这个, 它): the product on screen."""
    return THIS_ONE.search(squash(text)) is not None


def model_codes(text: Any) -> FrozenSet[str]:
    """The model codes in a text, squashed (厨匠顶吸式油烟机ｔ７ -> {"t7"})."""
    return frozenset(MODEL_CODE.findall(squash(text)))


@dataclass(frozen=True)
class ProductMatch:
    """What a text names.

    Attributes:
        query: The text as compared (squashed).
        products: The products it may name, best first: one when it names one product, several
            when the customer must say which, none when it names nothing the shop sells.
        codes: The model codes the text named.
        suggestions: For a text naming nothing, products whose names look like it.
        text: The text as the customer wrote it (cleaned), for answers.

    """

    query: str
    products: Tuple[Product, ...] = ()
    codes: FrozenSet[str] = frozenset()
    suggestions: Tuple[Product, ...] = field(default=())
    text: str = ""

    @property
    def product(self) -> Optional[Product]:
        """The one product named, or None (nothing or several)."""
        return self.products[0] if len(self.products) == 1 else None

    @property
    def names_something(self) -> bool:
        """Whether the text spoke of a product at all (named, vague, or a model code)."""
        return bool(self.products or self.codes)


def _plain_name(product: Product) -> str:
    name = squash(product.name)
    brand = squash(product.brand)
    return name[len(brand) :] if brand and name.startswith(brand) else name


def _is_word_tail(name: str, start: int) -> bool:
    """Whether name[start:] can stand for the product.

    It must have a Chinese character and not begin inside a run of letters and digits (the 16
    of H16 names nothing).
    """
    tail = name[start:]
    if tail.isascii():
        return False
    return not (tail[0].isascii() and tail[0].isalnum() and name[start - 1].isascii())


def _name_score(
    text: str, product: Product, *, part_of_name: bool, kinds: FrozenSet[str] = frozenset()
) -> int:
    """How many characters of the product's name the text names (0: none).

    A tail or part of a name that is only a category (坚果 of 每日坚果) singles nothing out.
    """
    name, plain = squash(product.name), _plain_name(product)
    if name in text:
        return len(name) + 1  # the brand too: better than the same name without it
    if plain and plain in text:
        return len(plain)
    best = 0
    for start in range(1, len(plain) - MIN_NAME_PART + 1):
        if _is_word_tail(plain, start) and plain[start:] in text and plain[start:] not in kinds:
            best = len(plain) - start
            break
    if (
        part_of_name
        and not text.isascii()
        and len(text) >= MIN_NAME_PART
        and text in name
        and text not in kinds
    ):
        best = max(best, len(text))
    return best


def _categories_named(text: str, products: Sequence[Product]) -> set:
    named = {stored for alias, stored in CATEGORY_ALIASES.items() if alias in text}
    named |= {p.category for p in products if p.category and p.category in text}
    return named


def _best(products: Iterable[Product], score: Dict[int, float]) -> List[Product]:
    ranked = [p for p in products if score[p.id] > 0]
    if not ranked:
        return []
    top = max(score[p.id] for p in ranked)
    return sorted((p for p in ranked if score[p.id] == top), key=lambda p: p.id)


def _closest_words(text: str, products: Iterable[Product]) -> List[Product]:
    """Of the products of a category, those sharing the longest run of words with the text.

    "顶吸式油烟机要开多大的孔" keeps the two 顶吸式 range hoods of the eight.
    """
    kinds = sorted(
        {p.category for p in products} | {a for a, c in CATEGORY_ALIASES.items() if a in text},
        key=len,
        reverse=True,
    )

    def without_kinds(words: str) -> str:
        for kind in kinds:
            words = words.replace(kind, " ")
        return words

    words = without_kinds(text)
    run = {}
    for product in set(products):
        plain = without_kinds(_plain_name(product))
        match = SequenceMatcher(None, words, plain).find_longest_match(0, len(words), 0, len(plain))
        run[product.id] = float(match.size) if match.size >= MIN_NAME_PART else 0.0
    return _best(set(products), run) or sorted(set(products), key=lambda p: p.id)


def _similarity(text: str, product: Product) -> float:
    return max(
        SequenceMatcher(None, text, _plain_name(product)).ratio(),
        SequenceMatcher(None, text, squash(product.name)).ratio(),
    )


def _by_code(text: str, codes: FrozenSet[str], catalogue: Sequence[Product]) -> ProductMatch:
    """Only the products of the named model(s); nothing when the shop has no such model."""
    of_model = [p for p in catalogue if model_codes(p.name) & codes]
    categories = _categories_named(text, catalogue)
    fitting = [p for p in of_model if not categories or p.category in categories]
    if not fitting:
        near = [p for p in catalogue if p.category in categories] or of_model
        return ProductMatch(text, (), codes, tuple(near[:SUGGESTION_COUNT]))
    score = {p.id: float(_name_score(text, p, part_of_name=False) + 1) for p in fitting}
    for product in fitting:  # 奶粉A2 1段: the rest of the words tell the A2 products apart
        plain = _plain_name(product)
        run = SequenceMatcher(None, text, plain).find_longest_match(0, len(text), 0, len(plain))
        score[product.id] += run.size / 100
    return ProductMatch(text, tuple(_best(fitting, score)), codes)


def match_text(
    catalogue: Sequence[Product], text: Any, *, whole_message: bool = False
) -> ProductMatch:
    """Match a text against a list of products (see the module's rules).

    Args:
        catalogue: The products that may be meant (the shop's, or one order's).
        text: What the customer called the product, or a whole message.
        whole_message: The text is a whole message: only names, model codes and category words
            in it count (no typo matching, no "part of a name").

    Returns:
        The match; its `products` are empty when nothing fits.

    """
    limit = MAX_MESSAGE if whole_message else MAX_QUERY
    query = squash(text, limit)
    if not query:
        return ProductMatch(query)
    codes = model_codes(query)
    if codes:
        found = _by_code(query, codes, catalogue)
        said = inputs.clean_text(text, limit)
        if whole_message and not found.products:  # name the missing model, not the sentence
            kinds = "".join(sorted(_categories_named(query, catalogue)))
            said = kinds + "、".join(sorted(code.upper() for code in codes))
        return replace(found, text=said)
    return replace(_by_name(catalogue, query, whole_message), text=inputs.clean_text(text, limit))


def _by_name(catalogue: Sequence[Product], query: str, whole_message: bool) -> ProductMatch:
    """Names, then categories and brands, then (a query only) names close to it."""
    kinds = frozenset(p.category for p in catalogue if p.category)
    score = {
        p.id: float(_name_score(query, p, part_of_name=not whole_message, kinds=kinds))
        for p in catalogue
    }
    named = _best(catalogue, score)
    if named:
        return ProductMatch(query, tuple(named))
    categories = _categories_named(query, catalogue)
    if not whole_message:
        categories |= {CATEGORY_ALIASES.get(query, query)}
    of_kind = [p for p in catalogue if p.category in categories]
    if not whole_message:
        of_kind += [p for p in catalogue if p.brand and squash(p.brand) == query]
    if of_kind:
        return ProductMatch(query, tuple(_closest_words(query, of_kind)))
    if whole_message:
        return ProductMatch(query)
    similarity = {p.id: _similarity(query, p) for p in catalogue}
    top = max(similarity.values(), default=0.0)
    if top >= TYPO_CUTOFF:
        close = [p for p in catalogue if similarity[p.id] >= top - TYPO_MARGIN]
        return ProductMatch(query, tuple(sorted(close, key=lambda p: -similarity[p.id])))
    near = sorted(
        (p for p in catalogue if similarity[p.id] >= SUGGESTION_CUTOFF),
        key=lambda p: (-similarity[p.id], p.id),
    )
    return ProductMatch(query, suggestions=tuple(near[:SUGGESTION_COUNT]))


def catalogue(session: Session) -> List[Product]:
    """Every product of the shop, in id order."""
    return list(session.execute(select(Product).order_by(Product.id)).scalars())


def match_products(session: Session, text: Any, *, whole_message: bool = False) -> ProductMatch:
    """Match a text against the shop's products (see `match_text`)."""
    return match_text(catalogue(session), text, whole_message=whole_message)
