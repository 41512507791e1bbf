"""The contract's personas, in the order the widget's picker shows them.

No imports: the Rasa process reads the ids through the customer channels.
"""

# id and the built-in label; the picker prefers each persona file's `name` (personas/<id>.yml).
PERSONAS = (
    ("default", "标准客服"),
    ("master", "主人模式"),
    ("lady", "淑女组"),
    ("spicy", "重口味组"),
    ("fresh", "小清新组"),
    ("crazy", "疯癫组"),
    ("advisor", "专业顾问"),
)
PERSONA_IDS = frozenset(persona_id for persona_id, _ in PERSONAS)
