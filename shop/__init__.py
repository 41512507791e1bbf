"""The shop's core, shared by the action server, the Rasa server's components and the web app.

Imports nothing from Rasa, `actions/` or `bot/`: settings, the clock, signing, money, text
parsing, the database (models, engine, repository), policy and the demo shop.
"""
