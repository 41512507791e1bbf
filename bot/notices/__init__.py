"""Proactive notices in the conversation's persona: what is due, when it may go, how it is sent.

:mod:`bot.notices.due` finds what is due in the shop database, :mod:`shop.policy.quiet_hours` keeps
the night quiet, :mod:`bot.notices.delivery` triggers the notice's ``EXTERNAL_*`` intent in the
customer's conversation through Rasa's HTTP API, and :mod:`bot.notices.run` ties them together
with the ``notice_log`` table so nothing is sent twice (``make notices``; a periodic job in the
web app during ``make run``).
"""
