"""Size advice from a product's size chart and the customer's height and weight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import Events, ShopAction
from actions.catalog import LIST_SEPARATOR, resolve_product
from actions.parsing import parse_height_cm, parse_weight_kg

# The chart dimension each measurement is compared with, and its unit as shown.
DIMENSIONS = (("height_cm", "cm"), ("weight_kg", "kg"))
SIZE_TIP_KEY = "尺码建议"


@dataclass(frozen=True)
class SizeChoice:
    """A recommended size and the chart rows that led to it.

    Attributes:
        size: The recommended size.
        other_size: The neighbouring size when the customer is between two, else None.
        matches: Per dimension ("height_cm", "weight_kg"), the sizes whose range holds the value.
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
        product = resolve_product(dispatcher, tracker, session)
        if product is None:
            return []
        chart = list(product.size_chart or [])
        if not chart:
            dispatcher.utter_message(response="utter_size_advice_no_chart", product=product.name)
            return []
        keys = chart_dimensions(chart)
        if "height_cm" not in keys or "weight_kg" not in keys:
            dispatcher.utter_message(
                response="utter_size_advice_needs_foot_length",
                product=product.name,
                size_ranges=LIST_SEPARATOR.join(
                    f"{row['size']}: {_fmt(row[k][0])}-{_fmt(row[k][1])}mm"
                    for row in chart
                    for k in keys
                    if k.endswith("_mm")
                ),
            )
            return []
        height = parse_height_cm(str(tracker.get_slot("height") or ""))
        if height is None:
            dispatcher.utter_message(response="utter_ask_height")
            return [SlotSet("height", None)]
        weight = parse_weight_kg(str(tracker.get_slot("weight") or ""))
        if weight is None:
            dispatcher.utter_message(response="utter_ask_weight")
            return [SlotSet("weight", None)]
        facts = {"product": product.name, "height": f"{height}cm", "weight": f"{_fmt(weight)}kg"}
        choice = choose_size(chart, {"height_cm": height, "weight_kg": weight})
        if choice is None:
            dispatcher.utter_message(
                response="utter_size_advice_out_of_chart",
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
        if choice.other_size is None:
            dispatcher.utter_message(response="utter_size_advice", **facts)
        else:
            dispatcher.utter_message(
                response="utter_size_advice_between",
                other_size=choice.other_size,
                size_tip=str((product.specs or {}).get(SIZE_TIP_KEY) or ""),
                **facts,
            )
        return []
