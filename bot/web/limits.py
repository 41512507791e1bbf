"""Limits shared by the chat widget (storefront) and the socket.io channel inside Rasa.

No imports: the Rasa process loads this through `bot.web.socketio_channel`.
"""

# The longest customer message, in characters: the widget's input stops there, and the socket.io
# and REST channels answer a longer one (from another client) without passing it to NLU.
MAX_MESSAGE_CHARS = 500
MESSAGE_TOO_LONG_TEXT = f"消息太长了（最多{MAX_MESSAGE_CHARS}字），请分几条发送"
