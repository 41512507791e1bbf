"""Persona rendering: every reply the customer sees, in the conversation's persona and script.

Rasa calls the web app's ``POST /nlg`` (see ``endpoints.yml``) with a response name, the tracker
and the facts an action passed; :mod:`bot.nlg.renderer` picks the persona's template
(``personas/<id>.yml``), fills it, adapts it to the customer's style (:mod:`bot.nlg.style`) and
converts it to Traditional Chinese for customers who write Traditional (:mod:`bot.nlg.script`).
"""
