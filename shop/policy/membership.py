"""Membership: the levels and what they are called, points and referral rewards."""

from __future__ import annotations

MEMBER_LEVELS = ("regular", "silver", "gold", "platinum", "diamond")
# What the levels are called wherever a customer or an agent reads them.
MEMBER_LEVEL_LABELS = {
    "regular": "普通会员",
    "silver": "银卡会员",
    "gold": "金卡会员",
    "platinum": "铂金会员",
    "diamond": "钻石会员",
}
POINTS_PER_YUAN_SPENT = 1
POINTS_PER_YUAN_OFF = 100  # 100 points take 1 yuan off
REFERRAL_REWARD_FEN = 1000  # a coupon for each side once the invited friend's first order ships


def level_label(level: str) -> str:
    """What a member level is called (an unknown code is shown as it is)."""
    return MEMBER_LEVEL_LABELS.get(level, level)


def points_value_fen(points: int) -> int:
    """What a number of points is worth as a discount, in fen (whole yuan only)."""
    return max(0, int(points)) // POINTS_PER_YUAN_OFF * 100
