"""Limits shared by the chat widget (storefront) and the socket.io channel inside Rasa.

No imports: the Rasa process loads this through `bot.web.socketio_channel`.
"""

# The longest customer message, in characters: the widget's input stops there and the socket.io
# channel answers a longer one (from another client) without passing it to NLU.
MAX_MESSAGE_CHARS = 500
