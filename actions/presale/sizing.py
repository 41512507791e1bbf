"""Size advice from a product's size chart and the customer's measurements.

Clothing is sized by height and weight (the form's slots) and, when the chart has waist ranges
and the customer gave a waist, by the waist too; shoes are sized by the foot length. Waist and
foot length are read from what the customer wrote since the latest size-advice request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from actions.presale.catalog import LIST_SEPARATOR, resolve_product
from shop.conversation import intent_name, is_external
from shop.db.models import Product
from shop.text.parsing import (
    parse_foot_length_mm,
    parse_height_cm,
    parse_waist_cm,
    parse_weight_kg,
)

# The chart dimension each measurement is compared with, and its unit as shown.
DIMENSIONS = (
    ("height_cm", "cm"),
    ("weight_kg", "kg"),
    ("waist_cm", "cm"),
    ("foot_length_mm", "mm"),
)
SIZE_TIP_KEY = "尺码建议"
# Set while the bot waits for the foot length, so that the reply leads back to the advice.
FOOT_LENGTH_ASKED_SLOT = "foot_length_asked"
SIZE_REQUEST_INTENT = "ask_size_advice"


@dataclass(frozen=True)
class SizeChoice:
    """A recommended size and the chart rows that led to it.

    Attributes:
        size: The recommended size.
        other_size: The neighbouring size when the customer is between two, else None.
        matches: Per dimension ("height_cm", "waist_cm" …), the sizes whose range holds the value.
        ranges: Per dimension, the matched rows as "M 158-165cm" (joined when on a boundary).

    """

    size: str
    other_size: Optional[str]
    matches: Dict[str, List[str]]
    ranges: Dict[str, str]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _matching_rows(chart: Sequence[Dict[str, Any]], key: str, value: float) -> List[int]:
    return [
        index
        for index, row in enumerate(chart)
        if key in row and row[key][0] <= value <= row[key][1]
    ]


def choose_size(
    chart: Sequence[Dict[str, Any]], measurements: Dict[str, float]
) -> Optional[SizeChoice]:
    """Choose a size from a chart of ranges (both ends inclusive) for the given measurements.

    Each measurement matches the rows whose range holds it (two rows on a shared boundary).
    A size matched by every measurement is chosen (the larger of two, if both are); when the
    measurements point to different sizes the customer is between them and the larger is
    chosen, so that the garment is not too tight.

    Args:
        chart: Rows like {"size": "M", "height_cm": [158, 165], "weight_kg": [47, 54]}.
        measurements: Values by chart key, e.g. {"height_cm": 165, "weight_kg": 60}.

    Returns:
        The choice, or None when a measurement is outside the chart.

    """
    matched: Dict[str, List[int]] = {}
    for key, value in measurements.items():
        rows = _matching_rows(chart, key, value)
        if not rows:
            return None
        matched[key] = rows
    if not matched:
        return None
    common = set.intersection(*(set(rows) for rows in matched.values()))
    if len(common) == 1:
        chosen, other = common.pop(), None
    elif common:
        chosen, other = max(common), min(common)
    else:
        every = [index for rows in matched.values() for index in rows]
        chosen, other = max(every), min(every)
    units = dict(DIMENSIONS)
    ranges = {
        key: LIST_SEPARATOR.join(
            f"{chart[i]['size']} {_fmt(chart[i][key][0])}-{_fmt(chart[i][key][1])}"
            f"{units.get(key, '')}"
            for i in rows
        )
        for key, rows in matched.items()
    }
    return SizeChoice(
        size=str(chart[chosen]["size"]),
        other_size=str(chart[other]["size"]) if other is not None else None,
        matches={key: [str(chart[i]["size"]) for i in rows] for key, rows in matched.items()},
        ranges=ranges,
    )


def chart_dimensions(chart: Sequence[Dict[str, Any]]) -> List[str]:
    """The measurement keys a chart has ranges for (height_cm, weight_kg, foot_length_mm …)."""
    keys: List[str] = []
    for row in chart:
        keys += [k for k in row if k != "size" and k not in keys]
    return keys


def texts_since_size_request(tracker: Tracker) -> List[str]:
    """What the customer wrote since (and with) the latest size-advice request, newest first.

    Without a request in this session only the latest message counts. External events
    (proactive notices) are not the customer's words and are skipped.
    """
    texts: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        if is_external(event):
            continue
        texts.append(str(event.get("text") or ""))
        if intent_name(event) == SIZE_REQUEST_INTENT:
            return texts
    return [str(tracker.latest_message.get("text") or "")]


def _first(texts: Sequence[str], parse: Callable[[str], Optional[float]]) -> Optional[float]:
    """The first value the parser reads from the texts (newest first), or None."""
    return next((v for v in map(parse, texts) if v is not None), None)


def foot_length_given(tracker: Tracker) -> Optional[float]:
    """The foot length (mm) the customer gave since the latest size-advice request.

    Right after the bot asked for it, a reply that is only a number (24.5 / 245) counts too.
    """
    if tracker.get_slot(FOOT_LENGTH_ASKED_SLOT):
        latest = str(tracker.latest_message.get("text") or "")
        bare = parse_foot_length_mm(latest, bare_number=True)
        if bare is not None:
            return bare
    return _first(texts_since_size_request(tracker), parse_foot_length_mm)


class ActionSizeAdvice(ShopAction):
    """Recommends a size from the size chart, saying which chart ranges matched."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_size_advice"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with the recommended size and the reason."""
        # Whatever happens next, the bot no longer waits for a foot length unless it asks again.
        done = (
            [SlotSet(FOOT_LENGTH_ASKED_SLOT, None)]
            if tracker.get_slot(FOOT_LENGTH_ASKED_SLOT)
            else []
        )
        product = resolve_product(dispatcher, tracker, session)
        if product is None:
            return done
        chart = list(product.size_chart or [])
        if not chart:
            dispatcher.utter_message(response="utter_size_advice_no_chart", product=product.name)
            return done
        keys = chart_dimensions(chart)
        if "foot_length_mm" in keys:
            events = self._by_foot(dispatcher, tracker, product, chart)
            return events or done  # events only when it asks for the foot length
        return self._by_body(dispatcher, tracker, product, chart, keys) + done

    @staticmethod
    def _by_foot(
        dispatcher: CollectingDispatcher, tracker: Tracker, product: Product, chart: List[Dict]
    ) -> Events:
        """Shoes: the size whose foot-length range holds the customer's, or asks for it."""
        foot = foot_length_given(tracker)
        if foot is None:
            dispatcher.utter_message(
                response="utter_size_advice_needs_foot_length",
                product=product.name,
                size_ranges=LIST_SEPARATOR.join(
                    f"{row['size']}: {_fmt(row['foot_length_mm'][0])}-"
                    f"{_fmt(row['foot_length_mm'][1])}mm"
                    for row in chart
                    if "foot_length_mm" in row
                ),
            )
            return [SlotSet(FOOT_LENGTH_ASKED_SLOT, True)]
        facts = {"product": product.name, "foot_length": f"{_fmt(foot)}mm"}
        choice = choose_size(chart, {"foot_length_mm": foot})
        if choice is None:
            dispatcher.utter_message(
                response="utter_size_advice_by_foot_out_of_chart",
                smallest_size=str(chart[0]["size"]),
                largest_size=str(chart[-1]["size"]),
                **facts,
            )
            return []
        facts.update(size=choice.size, foot_range=choice.ranges["foot_length_mm"])
        if choice.other_size is None:
            dispatcher.utter_message(response="utter_size_advice_by_foot", **facts)
        else:
            dispatcher.utter_message(
                response="utter_size_advice_by_foot_between",
                other_size=choice.other_size,
                size_tip=str((product.specs or {}).get(SIZE_TIP_KEY) or ""),
                **facts,
            )
        return []

    @staticmethod
    def _by_body(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        product: Product,
        chart: List[Dict],
        keys: List[str],
    ) -> Events:
        """Clothing: height and weight, and the waist when given and the chart has it."""
        height = parse_height_cm(str(tracker.get_slot("height") or ""))
        if height is None:
            dispatcher.utter_message(response="utter_ask_height")
            return [SlotSet("height", None)]
        weight = parse_weight_kg(str(tracker.get_slot("weight") or ""))
        if weight is None:
            dispatcher.utter_message(response="utter_ask_weight")
            return [SlotSet("weight", None)]
        facts = {"product": product.name, "height": f"{height}cm", "weight": f"{_fmt(weight)}kg"}
        measurements = {"height_cm": float(height), "weight_kg": weight}
        waist = None
        if "waist_cm" in keys:
            waist = _first(texts_since_size_request(tracker), parse_waist_cm)
        suffix = ""
        if waist is not None:
            measurements["waist_cm"] = waist
            facts["waist"] = f"{_fmt(waist)}cm"
            suffix = "_with_waist"
        choice = choose_size(chart, measurements)
        if choice is None:
            dispatcher.utter_message(
                response=f"utter_size_advice_out_of_chart{suffix}",
                smallest_size=str(chart[0]["size"]),
                largest_size=str(chart[-1]["size"]),
                **facts,
            )
            return []
        facts.update(
            size=choice.size,
            height_range=choice.ranges["height_cm"],
            weight_range=choice.ranges["weight_kg"],
        )
        if waist is not None:
            facts["waist_range"] = choice.ranges["waist_cm"]
        if choice.other_size is None:
            dispatcher.utter_message(response=f"utter_size_advice{suffix}", **facts)
        else:
            dispatcher.utter_message(
                response=f"utter_size_advice_between{suffix}",
                other_size=choice.other_size,
                size_tip=str((product.specs or {}).get(SIZE_TIP_KEY) or ""),
                **facts,
            )
        return []
