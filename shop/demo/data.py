"""Static tables of the demo shop: invented brands, products, places and names (all fake)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

# city -> (province as written in addresses, districts, roads)
CITIES: Dict[str, Tuple[str, Tuple[str, ...], Tuple[str, ...]]] = {
    "杭州": (
        "浙江省",
        ("西湖区", "拱墅区", "滨江区", "余杭区"),
        ("文三路", "莫干山路", "江南大道", "文一西路"),
    ),
    "宁波": ("浙江省", ("鄞州区", "海曙区", "江北区"), ("中山东路", "天童南路", "人民路")),
    "上海": (
        "上海市",
        ("浦东新区", "徐汇区", "静安区", "闵行区"),
        ("张杨路", "漕溪北路", "南京西路", "莘庄路"),
    ),
    "北京": ("北京市", ("朝阳区", "海淀区", "丰台区"), ("建国路", "中关村大街", "丰台北路")),
    "广州": ("广东省", ("天河区", "越秀区", "番禺区"), ("天河路", "中山五路", "市桥路")),
    "深圳": ("广东省", ("南山区", "福田区", "宝安区"), ("科技园路", "深南大道", "新安路")),
    "南京": ("江苏省", ("鼓楼区", "玄武区", "江宁区"), ("中山路", "珠江路", "双龙大道")),
    "苏州": ("江苏省", ("姑苏区", "工业园区", "吴中区"), ("人民路", "星湖街", "东吴北路")),
    "成都": ("四川省", ("锦江区", "武侯区", "高新区"), ("春熙路", "人民南路", "天府大道")),
    "武汉": ("湖北省", ("江汉区", "武昌区", "洪山区"), ("解放大道", "中南路", "珞喻路")),
    "西安": ("陕西省", ("雁塔区", "碑林区", "未央区"), ("小寨东路", "东大街", "凤城八路")),
    "长沙": ("湖南省", ("岳麓区", "芙蓉区", "天心区"), ("麓山南路", "五一大道", "芙蓉南路")),
    "重庆": (
        "重庆市",
        ("渝中区", "江北区", "沙坪坝区"),
        ("解放碑步行街", "观音桥步行街", "三峡广场"),
    ),
    "郑州": ("河南省", ("金水区", "二七区", "郑东新区"), ("花园路", "大学路", "商务内环路")),
    "厦门": ("福建省", ("思明区", "湖里区"), ("中山路", "湖滨南路", "枋湖路")),
}

# department -> the warehouse city parcels leave from
WAREHOUSES = {
    "kitchen": "宁波",
    "beauty": "广州",
    "snacks": "芜湖",
    "apparel": "杭州",
    "footwear": "泉州",
    "infant": "上海",
}

CARRIERS = {
    "顺丰": "SF",
    "中通": "ZT",
    "圆通": "YT",
    "韵达": "YD",
    "申通": "ST",
    "极兔": "JT",
    "京东快递": "JD",
    "邮政": "EMS",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董潘袁蔡蒋余杜叶程魏苏吕丁任沈"
)
GIVEN = tuple(
    (
        "伟 芳 娜 敏 静 丽 强 磊 洋 艳 勇 军 杰 娟 涛 明 超 秀英 霞 平 "
        "刚 桂英 婷 雪 宇 浩 欣 怡 佳 子涵 梓轩 思远 雨桐 晨曦 嘉怡 "
        "琪 欣怡 梦瑶 博文 昊然 一诺 诗涵 晴 建国 海燕 志强 丹丹 小燕 文静 俊杰"
    ).split()
)
NICK_PARTS = tuple(
    (
        "爱吃坚果的 快乐的 小鹿 momo 吃货 宝妈 阿 小 大 温柔的 "
        "不想上班的 厨房里的 爱旅行的 夜猫子 佛系"
    ).split()
)
PHONE_PREFIXES = tuple(
    (
        "138 139 137 136 135 150 151 152 158 159 182 183 187 188 130 131 132 155 156 "
        "185 186 133 153 180 189 199"
    ).split()
)

PERSONALITY_NOTES = {
    "dominant": ["说话直接, 喜欢先听结论和价格", "不喜欢长篇解释, 回复要短"],
    "expressive": ["爱聊天, 喜欢分享使用感受", "晒过买家秀, 喜欢被夸"],
    "amiable": ["比较犹豫, 需要帮着挑", "脾气好, 很少催单"],
    "analytical": ["会问参数和检测报告", "会对比几家店的政策条款"],
}
GENERAL_NOTES = (
    "新房装修中, 开放式厨房",
    "上次收货外箱破损, 已补偿优惠券",
    "对色差比较敏感, 发货前可提醒实物颜色",
    "工作日白天不方便接电话, 晚上联系",
    "老家在外地, 节假日常给父母下单",
    "怀孕中, 精油类要提醒孕妇慎用",
    "皮肤敏感, 偏好无香精产品",
    "身高偏高, 裤子常买加长款",
    "给孩子买奶粉, 关心生产日期",
    "推荐过两位朋友来店里",
    "喜欢手写卡片, 上次生日送过小礼物",
    "之前物流慢投诉过一次, 已解决",
)
PREFERENCE_CHOICES = {
    "contact_time": ("上午", "中午", "晚上", "周末"),
    "likes": ("薰衣草", "玫瑰", "坚果", "辣味零食", "简约款", "宽松版型", "大吸力", "静音"),
    "avoid": ("香味太浓", "甜食", "紧身款", "电话推销"),
    "gift_ok": (True, False),
}

BOTTOM_CHART = [
    {"size": "S", "height_cm": [150, 158], "weight_kg": [40, 47], "waist_cm": [62, 66]},
    {"size": "M", "height_cm": [158, 165], "weight_kg": [47, 54], "waist_cm": [66, 70]},
    {"size": "L", "height_cm": [165, 170], "weight_kg": [54, 61], "waist_cm": [70, 75]},
    {"size": "XL", "height_cm": [170, 176], "weight_kg": [61, 69], "waist_cm": [75, 80]},
    {"size": "XXL", "height_cm": [176, 185], "weight_kg": [69, 80], "waist_cm": [80, 86]},
]
TOP_CHART = [
    {"size": "S", "height_cm": [150, 158], "weight_kg": [40, 48], "chest_cm": [80, 86]},
    {"size": "M", "height_cm": [158, 165], "weight_kg": [48, 56], "chest_cm": [86, 92]},
    {"size": "L", "height_cm": [165, 172], "weight_kg": [56, 64], "chest_cm": [92, 98]},
    {"size": "XL", "height_cm": [172, 178], "weight_kg": [64, 73], "chest_cm": [98, 104]},
    {"size": "XXL", "height_cm": [178, 186], "weight_kg": [73, 85], "chest_cm": [104, 112]},
]
SHOE_CHART = [
    {"size": str(size), "foot_length_mm": [225 + 5 * i, 230 + 5 * i]}
    for i, size in enumerate(range(36, 45))
]
CLOTHING_SIZES = ("S", "M", "L", "XL", "XXL")
SHOE_SIZES = tuple(row["size"] for row in SHOE_CHART)

KITCHEN_CERT = "厨匠电器品牌授权书 CJ-AUTH-2024-0318"
FANGYU_CERT = "芳屿品牌授权书 FY-AUTH-2024-1106"
FORMULA_CERT = "贝初营养品牌授权书 BC-AUTH-2024-0725"
SNACK_CERT = "松果仓食品品牌授权书 SGC-AUTH-2024-0402"
APPAREL_CERT = "衣见服饰品牌授权书 YJ-AUTH-2024-0920"
CODE_SCHEME = "瓶底/罐底16位防伪码: 刮开涂层, 在客服处或扫码验证; 每个码只能首次验证一次"


def _p(
    code: str,
    name: str,
    department: str,
    category: str,
    brand: str,
    price_yuan: int,
    description: str,
    specs: Dict[str, Any],
    colours: Tuple[Any, ...] = (None,),
    sizes: Tuple[Any, ...] = (None,),
    **extra: Any,
) -> Dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "department": department,
        "category": category,
        "brand": brand,
        "price_fen": price_yuan * 100,
        "description": description,
        "specs": specs,
        "colours": colours,
        "sizes": sizes,
        **extra,
    }


def _hood(
    code: str,
    model: str,
    kind: str,
    price: int,
    airflow: int,
    pressure: int,
    noise: int,
    size: str,
    cutout: Tuple[Any, Any],
    height: Tuple[int, int],
) -> Dict:
    specs = {
        "类型": kind,
        "风量": f"{airflow}m³/min",
        "风压": f"{pressure}Pa",
        "噪音": f"{noise}dB",
        "尺寸": size,
        "功率": "230W",
        "排烟管直径": "160mm",
        "安装提示": "安装高度指灶面到烟机底部的距离; 烟管建议装修时预埋, 穿墙孔直径170mm;"
        " 挂钩打孔要避开墙内水电管线",
    }
    return _p(
        code,
        f"厨匠{kind}油烟机{model}",
        "kitchen",
        "油烟机",
        "厨匠",
        price,
        f"{kind}吸油烟机, 大风量{airflow}m³/min, 适合中式爆炒",
        specs,
        colours=("星空灰", "曜石黑"),
        needs_installation=True,
        mounting_height_min_mm=height[0],
        mounting_height_max_mm=height[1],
        ceiling_cutout_width_mm=cutout[0],
        ceiling_cutout_depth_mm=cutout[1],
        flue_diameter_mm=160,
        flue_max_length_m=3,
        warranty_years=5,
        authorisation_cert_no=KITCHEN_CERT,
        anti_counterfeit_scheme="机身铭牌序列号可查",
    )


def _hob(code: str, model: str, kind: str, price: int, heat: str, cutout: str) -> Dict:
    specs = {
        "类型": kind,
        "热负荷": heat,
        "热效率": "≥63%",
        "面板": "钢化玻璃",
        "台面开孔": cutout,
        "熄火保护": "有",
        "安装提示": "需燃气公司或持证师傅接气, 开孔尺寸请提前确认",
    }
    return _p(
        code,
        f"厨匠{kind}燃气灶{model}",
        "kitchen",
        "燃气灶",
        "厨匠",
        price,
        f"{kind}燃气灶, 猛火{heat}, 熄火保护",
        specs,
        colours=("黑晶",),
        sizes=("天然气", "液化气"),
        needs_installation=True,
        warranty_years=3,
        authorisation_cert_no=KITCHEN_CERT,
        anti_counterfeit_scheme="机身铭牌序列号可查",
    )


def _heater(
    code: str, name: str, price: int, specs: Dict[str, Any], gas: bool, height: Tuple[int, int]
) -> Dict:
    specs = {**specs, "安装提示": "燃气款需安装排烟管并伸出室外; 电热水器需挂在承重墙上"}
    return _p(
        code,
        name,
        "kitchen",
        "热水器",
        "厨匠",
        price,
        f"{name}, 恒温省心",
        specs,
        colours=("白色",) if gas else ("白色", "香槟金"),
        sizes=("天然气", "液化气") if gas else (None,),
        needs_installation=True,
        mounting_height_min_mm=height[0],
        mounting_height_max_mm=height[1],
        flue_diameter_mm=60 if gas else None,
        flue_max_length_m=3 if gas else None,
        warranty_years=3 if gas else 8,
        authorisation_cert_no=KITCHEN_CERT,
        anti_counterfeit_scheme="机身铭牌序列号可查",
    )


def _oil(code: str, plant: str, price: int, effect: str, caution: str) -> Dict:
    specs = {
        "规格": "10ml",
        "产地": "法国普罗旺斯" if plant == "薰衣草" else "进口原料 国内分装",
        "保质期": "3年",
        "功效": effect,
        "使用方法": "稀释后按摩或滴入香薰机",
        "注意": caution,
    }
    return _p(
        code,
        f"芳屿{plant}精油",
        "beauty",
        "精油",
        "芳屿",
        price,
        f"单方{plant}精油, {effect}",
        specs,
        sizes=("10ml",),
        warranty_years=0,
        authorisation_cert_no=FANGYU_CERT,
        anti_counterfeit_scheme=CODE_SCHEME,
    )


def _skin(code: str, name: str, price: int, size: str, skin: str, use: str) -> Dict:
    specs = {"规格": size, "适合肤质": skin, "保质期": "3年", "使用方法": use, "香精": "无添加香精"}
    return _p(
        code,
        f"芳屿{name}",
        "beauty",
        "护肤",
        "芳屿",
        price,
        f"{name}, 适合{skin}",
        specs,
        sizes=(size,),
        warranty_years=0,
        authorisation_cert_no=FANGYU_CERT,
        anti_counterfeit_scheme=CODE_SCHEME,
    )


def _food(
    code: str,
    name: str,
    category: str,
    price: int,
    weight: str,
    flavours: Tuple[str, ...],
    origin: str,
    shelf: str,
) -> Dict:
    specs = {
        "净含量": weight,
        "产地": origin,
        "保质期": shelf,
        "储存": "阴凉干燥处, 开封后尽快食用",
        "variant_label": "口味",
    }
    return _p(
        code,
        f"松果仓{name}",
        "snacks",
        category,
        "松果仓",
        price,
        f"{name} {weight}",
        specs,
        colours=flavours,
        sizes=(weight,),
        warranty_years=0,
        authorisation_cert_no=SNACK_CERT,
    )


def _wear(
    code: str,
    name: str,
    category: str,
    price: int,
    colours: Tuple[str, str],
    fabric: str,
    fit: str,
    chart: List[Dict[str, Any]],
) -> Dict:
    specs = {
        "面料": fabric,
        "版型": fit,
        "洗涤": "30°C以下手洗或机洗, 深浅分开",
        "尺码建议": "介于两个尺码之间选大一码",
    }
    return _p(
        code,
        f"衣见{name}",
        "apparel",
        category,
        "衣见",
        price,
        f"{name}, {fit}",
        specs,
        colours=colours,
        sizes=CLOTHING_SIZES,
        warranty_years=0,
        size_chart=chart,
        authorisation_cert_no=APPAREL_CERT,
    )


def _shoe(code: str, name: str, price: int, colours: Tuple[str, str], upper: str) -> Dict:
    specs = {"鞋面": upper, "鞋底": "橡胶防滑", "尺码建议": "按脚长选码, 脚背高或偏宽选大一码"}
    return _p(
        code,
        f"衣见{name}",
        "footwear",
        "鞋",
        "衣见",
        price,
        f"{name}, {upper}鞋面",
        specs,
        colours=colours,
        sizes=SHOE_SIZES,
        warranty_years=0,
        size_chart=SHOE_CHART,
        authorisation_cert_no=APPAREL_CERT,
    )


def _formula(code: str, line: str, stage: int, price: int) -> Dict:
    months = {1: "0-6个月", 2: "6-12个月", 3: "12-36个月"}[stage]
    specs = {
        "适用月龄": months,
        "段数": f"{stage}段",
        "net_weight_g": 800,
        "净含量": "800g",
        "冲调": "每30ml温水(40-50°C)加1平勺(约4.4g)",
        "产地": "新西兰",
        "保质期": "2年",
        "溯源": "罐底防伪码可查生产批次",
    }
    return _p(
        code,
        f"贝初{line}婴儿配方奶粉{stage}段",
        "infant",
        "奶粉",
        "贝初",
        price,
        f"{line}配方, {months}宝宝",
        specs,
        sizes=("800g",),
        warranty_years=0,
        authorisation_cert_no=FORMULA_CERT,
        anti_counterfeit_scheme=CODE_SCHEME,
    )


def products() -> List[Dict[str, Any]]:
    """Return the demo catalogue: 67 products with their SKU variants (colours × sizes)."""
    items = [
        _hood("H-J1", "J1", "侧吸式", 2999, 20, 420, 52, "895×540×480mm", (None, None), (350, 450)),
        _hood("H-J3", "J3", "侧吸式", 3699, 23, 480, 51, "895×560×500mm", (None, None), (350, 450)),
        _hood("H-J5", "J5", "侧吸式", 4599, 25, 520, 50, "900×580×520mm", (None, None), (350, 450)),
        _hood("H-T5", "T5", "顶吸式", 3299, 21, 450, 54, "900×500×580mm", (320, 260), (650, 750)),
        _hood("H-T7", "T7", "顶吸式", 4299, 24, 500, 53, "900×520×600mm", (320, 260), (650, 750)),
        _hood("H-E6", "E6", "欧式", 3999, 22, 460, 53, "900×500×700mm", (330, 280), (650, 750)),
        _hood("H-S2", "S2", "近吸式", 2599, 19, 400, 52, "750×450×480mm", (None, None), (350, 450)),
        _hood("H-S4", "S4", "近吸式", 3199, 21, 430, 51, "900×450×500mm", (None, None), (350, 450)),
        _hob("G-B1", "B1", "嵌入式", 1599, "4.2kW", "650×360mm"),
        _hob("G-B3", "B3", "嵌入式", 2199, "5.0kW", "650×370mm"),
        _hob("G-B5", "B5", "台嵌两用", 1899, "4.5kW", "640×350mm"),
        _hob("G-B2", "B2", "不锈钢", 1299, "4.0kW", "650×350mm"),
        _hob("G-B7", "B7", "三眼", 2699, "4.5kW", "790×400mm"),
        _hob("G-B9", "B9", "定时", 2399, "5.2kW", "650×380mm"),
        _heater(
            "W-H13",
            "厨匠燃气热水器H13",
            2599,
            {"容量": "13L/min", "类型": "强排式恒温"},
            True,
            (1500, 1700),
        ),
        _heater(
            "W-H16",
            "厨匠燃气热水器H16",
            3199,
            {"容量": "16L/min", "类型": "强排式恒温"},
            True,
            (1500, 1700),
        ),
        _heater(
            "W-H16Z",
            "厨匠零冷水燃气热水器H16Z",
            4299,
            {"容量": "16L/min", "类型": "零冷水"},
            True,
            (1500, 1700),
        ),
        _heater(
            "W-H20",
            "厨匠燃气热水器H20",
            3899,
            {"容量": "20L/min", "类型": "强排式恒温"},
            True,
            (1500, 1700),
        ),
        _heater(
            "W-D60", "厨匠电热水器D60", 1799, {"容量": "60L", "功率": "3000W"}, False, (1800, 2000)
        ),
        _heater(
            "W-D80", "厨匠电热水器D80", 2199, {"容量": "80L", "功率": "3300W"}, False, (1800, 2000)
        ),
        _oil("O-LAV", "薰衣草", 89, "舒缓助眠", "孕妇慎用"),
        _oil("O-ROS", "玫瑰", 299, "滋润提亮", "孕妇慎用"),
        _oil("O-TEA", "茶树", 69, "清洁控油", "勿直接涂抹大面积皮肤"),
        _oil("O-ORA", "甜橙", 59, "愉悦心情", "使用后避免日晒"),
        _oil("O-CHA", "洋甘菊", 159, "舒缓敏感", "菊科过敏者慎用"),
        _oil("O-SAN", "檀香", 199, "安神静心", "孕妇慎用"),
        _oil("O-EUC", "尤加利", 79, "清新呼吸", "婴幼儿避免使用"),
        _oil("O-YLA", "依兰", 129, "放松平衡", "低浓度使用"),
        _skin("S-CRM", "玫瑰保湿面霜", 219, "50g", "干性及混合性肌肤", "早晚洁面后取适量涂抹"),
        _skin("S-TON", "玫瑰纯露爽肤水", 129, "200ml", "所有肤质", "化妆棉轻拍全脸"),
        _skin("S-SER", "修护精华液", 299, "30ml", "敏感肌", "爽肤水后取2-3滴按压"),
        _skin("S-MSK", "补水面膜", 99, "10片", "缺水肌肤", "每周2-3次, 每次15分钟"),
        _skin("S-EYE", "紧致眼霜", 239, "15g", "所有肤质", "无名指轻点眼周"),
        _skin("S-CLN", "氨基酸洁面乳", 79, "120g", "所有肤质", "打出泡沫后按摩清洗"),
        _food("N-PEC", "碧根果", "坚果", 45, "200g", ("奶油味", "原味"), "美国", "9个月"),
        _food("N-MAC", "夏威夷果", "坚果", 42, "200g", ("奶油味", "原味"), "澳大利亚", "9个月"),
        _food("N-DAY", "每日坚果", "坚果", 99, "750g(30包)", ("混合装", "少盐装"), "中国", "8个月"),
        _food("N-PIS", "开心果", "坚果", 49, "200g", ("原味", "盐焗"), "美国", "9个月"),
        _food("N-PIN", "东北红松子", "坚果", 69, "200g", ("原味", "椒盐"), "中国黑龙江", "9个月"),
        _food("N-CAS", "腰果", "坚果", 39, "200g", ("原味", "炭烧"), "越南", "9个月"),
        _food("F-PRK", "猪肉脯", "零食", 29, "200g", ("原味", "蜜汁"), "中国江苏", "6个月"),
        _food("F-MGO", "芒果干", "零食", 25, "200g", ("原味", "低糖"), "中国海南", "12个月"),
        _food("F-BEF", "牛肉干", "零食", 45, "250g", ("五香", "麻辣"), "中国内蒙古", "9个月"),
        _food("F-BOX", "零食大礼包", "零食", 129, "1.5kg", ("经典款", "新年款"), "中国", "6个月"),
        _wear(
            "C-JNS",
            "高腰直筒牛仔裤",
            "裤装",
            169,
            ("浅蓝", "深蓝"),
            "98%棉 2%氨纶, 微弹",
            "直筒显瘦",
            BOTTOM_CHART,
        ),
        _wear(
            "C-WLP",
            "垂感阔腿裤",
            "裤装",
            139,
            ("黑色", "杏色"),
            "醋酸纤维混纺, 垂感好",
            "高腰阔腿",
            BOTTOM_CHART,
        ),
        _wear(
            "C-JOG",
            "休闲束脚裤",
            "裤装",
            119,
            ("灰色", "黑色"),
            "棉涤混纺, 有弹力",
            "宽松束脚",
            BOTTOM_CHART,
        ),
        _wear(
            "C-DRS",
            "法式碎花连衣裙",
            "裙装",
            229,
            ("碎花蓝", "米白"),
            "雪纺, 有内衬",
            "收腰A字",
            TOP_CHART,
        ),
        _wear(
            "C-SKT",
            "针织半身裙",
            "裙装",
            149,
            ("燕麦色", "黑色"),
            "针织, 有弹力",
            "包臀中长",
            BOTTOM_CHART,
        ),
        _wear(
            "C-HOD",
            "宽松连帽卫衣",
            "上衣",
            159,
            ("灰色", "白色"),
            "400g加绒纯棉",
            "宽松落肩",
            TOP_CHART,
        ),
        _wear(
            "C-SHT", "纯棉白衬衫", "上衣", 139, ("白色", "浅蓝"), "100%棉, 免烫", "修身", TOP_CHART
        ),
        _wear(
            "C-DWN", "轻薄羽绒服", "上衣", 399, ("黑色", "米白"), "90%白鸭绒", "常规短款", TOP_CHART
        ),
        _wear(
            "C-TEE", "圆领纯棉T恤", "上衣", 69, ("白色", "黑色"), "100%新疆棉", "常规", TOP_CHART
        ),
        _wear(
            "C-BSH",
            "男士商务衬衫",
            "上衣",
            189,
            ("白色", "浅灰"),
            "棉混纺, 抗皱",
            "商务修身",
            TOP_CHART,
        ),
        _shoe("K-RUN", "轻便跑步鞋", 299, ("黑白", "灰蓝"), "飞织透气"),
        _shoe("K-CVS", "经典帆布鞋", 129, ("白色", "黑色"), "帆布"),
        _shoe("K-SKT", "小白板鞋", 199, ("纯白", "白绿"), "超纤皮"),
        _shoe("K-LOF", "休闲乐福鞋", 259, ("黑色", "棕色"), "头层牛皮"),
    ]
    for line, short, base in (("经典", "CL", 228), ("有机", "OG", 358), ("A2蛋白", "A2", 328)):
        for stage in (1, 2, 3):
            items.append(_formula(f"M-{short}{stage}", line, stage, base - 10 * stage))
    return items


# category -> gifts (name, min order yuan, notes: suitable for whom)
GIFTS: Dict[str, List[Tuple[str, int, str]]] = {
    "油烟机": [
        ("厨房清洁套装", 2000, "新装修厨房, 烟机清洁保养用"),
        ("不粘炒锅", 3500, "常做饭的家庭"),
    ],
    "燃气灶": [
        ("铸铁防风圈", 1000, "燃气灶配件, 所有买家"),
        ("硅胶隔热垫两件套", 1500, "所有买家"),
    ],
    "热水器": [("增压花洒", 2000, "家庭淋浴, 水压低的小区尤其合适")],
    "精油": [("精油5ml试用装", 100, "想尝试其他香型的老客"), ("扩香石", 200, "卧室或办公桌用")],
    "护肤": [("面膜小样3片", 150, "所有肤质"), ("化妆棉", 100, "所有买家")],
    "坚果": [("开果器", 40, "买带壳坚果的顾客"), ("果壳袋和湿巾", 0, "所有买家")],
    "零食": [("零食小样包", 60, "爱尝鲜的吃货")],
    "裤装": [("简约皮带", 300, "买裤子的成年顾客")],
    "裙装": [("发圈两件套", 150, "女士")],
    "上衣": [("衣物除毛球器", 300, "针织和卫衣买家")],
    "鞋": [("防臭鞋垫", 100, "所有买家"), ("运动袜三双装", 200, "跑步鞋买家")],
    "奶粉": [
        ("宝宝辅食碗勺套装", 300, "6个月以上宝宝"),
        ("婴儿湿巾", 200, "所有月龄宝宝"),
        ("奶粉分装盒", 400, "需要外出携带的宝妈宝爸"),
    ],
}

PROVIDER_NAMES = ("厨匠授权服务中心", "安心家电安装服务部", "邻家师傅上门服务")
