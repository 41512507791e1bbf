"""Delivery policy as pure functions: when an order ships and arrives, and when shipping is free.

All policy numbers live here: the 15:00 cut-off in the shop's time zone (`SHOP_TIMEZONE`), the
48-hour dispatch when the dispatch day is a day off (days off from `shop.policy.calendar`),
regions, transit days by carrier and region, and the free-shipping thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, Optional, Tuple

from shop import settings as settings_module
from shop.policy import calendar

DISPATCH_CUTOFF = time(15, 0)
DAY_OFF_DISPATCH_HOURS = 48
# A parcel on its way without a tracking update for this long is stalled: an apology and a chase.
STALL_HOURS = 48

DayOff = Callable[[date], bool]

REGION_NEAR = "near"  # 江浙沪皖: next to the warehouses
REGION_MAINLAND = "mainland"
REGION_REMOTE = "remote"
REGION_UNKNOWN = "unknown"  # a city we cannot place: the widest window, never a false promise

NEAR_PROVINCES = ("上海", "江苏", "浙江", "安徽")
REMOTE_PROVINCES = ("新疆", "西藏", "青海", "内蒙古", "宁夏")
MAINLAND_PROVINCES = tuple(
    "北京 天津 河北 山西 辽宁 吉林 黑龙江 福建 江西 山东 河南 湖北 湖南 广东 广西 海南 "
    "重庆 四川 贵州 云南 陕西 甘肃".split()
)


def _cities(province: str, names: str) -> Dict[str, str]:
    return {name: province for name in names.split()}


# Cities customers name -> province (as the start of its name). The remote provinces (and 甘肃)
# list every prefecture-level city, prefecture, league and autonomous prefecture by its short
# name, with their seats and the better-known county-level cities.
CITY_PROVINCES: Dict[str, str] = {
    **_cities("浙江", "杭州 宁波 温州 绍兴 嘉兴 湖州 金华 台州 衢州 舟山 丽水 义乌 慈溪 余姚 诸暨"),
    **_cities(
        "江苏",
        "南京 苏州 无锡 常州 南通 扬州 徐州 镇江 泰州 盐城 淮安 连云港 宿迁 昆山 江阴 张家港 常熟",
    ),
    **_cities(
        "安徽", "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城"
    ),
    **_cities(
        "新疆",
        "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉 博尔塔拉 博州 巴音郭楞 巴州 阿克苏 克孜勒苏 克州 "
        "喀什 和田 伊犁 塔城 阿勒泰 石河子 阿拉尔 图木舒克 五家渠 北屯 铁门关 双河 可克达拉 "
        "昆玉 胡杨河 新星 白杨 库尔勒 伊宁 奎屯 博乐 阿图什 阜康 乌苏 霍尔果斯 阿拉山口",
    ),
    **_cities("西藏", "拉萨 日喀则 昌都 林芝 山南 那曲 阿里 噶尔 狮泉河"),
    **_cities(
        "青海",
        "西宁 海东 海北 黄南 海南州 海南藏族自治州 果洛 玉树 海西 格尔木 德令哈 茫崖",
    ),
    **_cities("宁夏", "银川 石嘴山 吴忠 固原 中卫 青铜峡 灵武"),
    **_cities(
        "内蒙古",
        "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 兴安 锡林郭勒 阿拉善 "
        "乌兰浩特 锡林浩特 巴彦浩特 海拉尔 满洲里 二连浩特 扎兰屯 牙克石 集宁 临河",
    ),
    **_cities(
        "甘肃",
        "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏 甘南 敦煌 玉门",
    ),
    **{
        c: "mainland"
        for c in (
            "北京 天津 重庆 "
            # 河北 山西 辽宁 吉林 黑龙江
            "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 雄安 "
            "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁 "
            "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛 "
            "长春 吉林 四平 辽源 通化 白山 松原 白城 延边 延吉 "
            "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化 大兴安岭 "
            # 福建 江西 山东 河南
            "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 晋江 "
            "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶 "
            "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 "
            "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 "
            "驻马店 济源 "
            # 湖北 湖南 广东 广西 海南
            "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施 仙桃 潜江 天门 "
            "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西 "
            "广州 深圳 珠海 汕头 佛山 韶关 湛江 肇庆 江门 茂名 惠州 梅州 汕尾 河源 阳江 清远 "
            "东莞 中山 潮州 揭阳 云浮 "
            "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左 "
            "海口 三亚 三沙 儋州 琼海 万宁 文昌 "
            # 四川 贵州 云南 陕西
            "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 "
            "巴中 资阳 阿坝 甘孜 凉山 西昌 "
            "贵阳 六盘水 遵义 安顺 毕节 铜仁 黔西南 黔东南 黔南 凯里 "
            "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 红河 文山 西双版纳 大理 德宏 怒江 "
            "迪庆 香格里拉 "
            "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛"
        ).split()
    },
    "上海": "上海",
}
# Administrative suffixes and the nationalities in autonomous areas' names, stripped one by one
# ("伊犁哈萨克自治州" -> "伊犁哈萨克" -> "伊犁") until a name is known.
PLACE_SUFFIX = re.compile(
    r"(特别行政区|自治区|自治州|自治县|地区|省|市|盟|州|县|"
    r"维吾尔|哈萨克|柯尔克孜|蒙古族|蒙古|藏族|回族|壮族|土族|撒拉族)$"
)

STANDARD_CARRIER = "ZT"
EXPRESS_CARRIER = "SF"
# carrier -> region -> (fewest, most) calendar days in transit after dispatch
TRANSIT_DAYS: Dict[str, Dict[str, Tuple[int, int]]] = {
    "ZT": {REGION_NEAR: (1, 2), REGION_MAINLAND: (2, 4), REGION_REMOTE: (4, 7)},
    "SF": {REGION_NEAR: (1, 1), REGION_MAINLAND: (1, 2), REGION_REMOTE: (2, 4)},
}

# Free shipping from these order amounts (fen), by region.
FREE_SHIPPING_THRESHOLD_FEN = {"mainland": 5900, "remote": 19900}


def region_of(city: Any) -> str:
    """Place a city or province the customer named into a delivery region.

    Returns:
        REGION_NEAR, REGION_MAINLAND, REGION_REMOTE or REGION_UNKNOWN.

    """
    names = [str(city or "").strip()]
    while names[-1]:
        shorter = PLACE_SUFFIX.sub("", names[-1])
        if shorter == names[-1]:
            break
        names.append(shorter)
    names = [name for name in names if name]
    province = next((CITY_PROVINCES[n] for n in names if n in CITY_PROVINCES), None)
    if province is None:
        provinces = (*NEAR_PROVINCES, *REMOTE_PROVINCES, *MAINLAND_PROVINCES)
        province = next((p for n in names for p in provinces if n.startswith(p)), None)
    if province is None:
        return REGION_UNKNOWN
    if province in REMOTE_PROVINCES:
        return REGION_REMOTE
    if province in NEAR_PROVINCES:
        return REGION_NEAR
    return REGION_MAINLAND


@dataclass(frozen=True)
class DispatchWindow:
    """The first and last day an order paid at a moment leaves the warehouse."""

    earliest: date
    latest: date


def dispatch_window(paid_at: datetime, is_day_off: DayOff = calendar.is_day_off) -> DispatchWindow:
    """When an order paid at a moment is dispatched.

    Paid before 15:00 shop time (`SHOP_TIMEZONE`) ships the same day, otherwise the next day;
    when that day is a day off the parcel leaves within 48 hours of payment.

    Args:
        paid_at: The moment of payment (timezone-aware).
        is_day_off: Tells whether a day is a day off (default: the State Council calendar).

    Returns:
        The dispatch window (a single day unless the dispatch day is a day off).

    Raises:
        ValueError: When `paid_at` is naive.

    """
    if paid_at.tzinfo is None:
        raise ValueError("paid_at must be timezone-aware")
    local = paid_at.astimezone(settings_module.load().tz)
    day = local.date() if local.time() < DISPATCH_CUTOFF else local.date() + timedelta(days=1)
    if is_day_off(day):
        return DispatchWindow(day, (local + timedelta(hours=DAY_OFF_DISPATCH_HOURS)).date())
    return DispatchWindow(day, day)


def transit_days(region: str, carrier: str = STANDARD_CARRIER) -> Tuple[int, int]:
    """Fewest and most days in transit for a carrier to a region (unknown: the widest)."""
    table = TRANSIT_DAYS[carrier]
    if region in table:
        return table[region]
    return min(low for low, _ in table.values()), max(high for _, high in table.values())


@dataclass(frozen=True)
class ArrivalEstimate:
    """Earliest and latest arrival of an order paid at a moment."""

    carrier: str
    region: str
    dispatch: DispatchWindow
    earliest: date
    latest: date


def estimate_arrival(
    paid_at: datetime,
    city: Any,
    carrier: str = STANDARD_CARRIER,
    is_day_off: DayOff = calendar.is_day_off,
) -> ArrivalEstimate:
    """Estimate when an order paid at a moment arrives in a city.

    Args:
        paid_at: The moment of payment (timezone-aware).
        city: The city or province the customer named.
        carrier: The carrier (STANDARD_CARRIER or EXPRESS_CARRIER).
        is_day_off: Tells whether a day is a day off (default: the State Council calendar).

    Returns:
        Earliest arrival (first dispatch day + fewest transit days) and latest arrival (last
        dispatch day + most transit days).

    """
    region = region_of(city)
    window = dispatch_window(paid_at, is_day_off)
    low, high = transit_days(region, carrier)
    return ArrivalEstimate(
        carrier,
        region,
        window,
        window.earliest + timedelta(days=low),
        window.latest + timedelta(days=high),
    )


def deadline_verdict(standard: ArrivalEstimate, express: ArrivalEstimate, deadline: date) -> str:
    """Whether a deadline can honestly be promised.

    Returns:
        "met" (standard delivery arrives by then at the latest), "express" (only SF express
        arrives by then at the latest) or "cannot_promise" (not even SF is sure to make it).

    """
    if standard.latest <= deadline:
        return "met"
    if express.latest <= deadline:
        return "express"
    return "cannot_promise"


def free_shipping_threshold_fen(city: Any) -> int:
    """The order amount (fen) from which shipping to a city is free.

    A city that cannot be placed gets the strictest (remote) threshold, never a false promise.
    """
    mainland = region_of(city) in (REGION_NEAR, REGION_MAINLAND)
    return FREE_SHIPPING_THRESHOLD_FEN["mainland" if mainland else "remote"]


AMOUNT = re.compile(r"(\d+(?:\.\d{1,2})?)\s*(?:元|块|rmb|¥)|[¥￥]\s*(\d+(?:\.\d{1,2})?)")


def amount_fen_in(text: Any) -> Optional[int]:
    """An order amount the customer wrote (99元, 99.5块, ¥120) in fen, or None."""
    match = AMOUNT.search(str(text or "").lower())
    if not match:
        return None
    try:
        return int(Decimal(match.group(1) or match.group(2)) * 100)
    except InvalidOperation:
        return None
