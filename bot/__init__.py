"""The platform around Rasa: NLU components, channels, renderer, web app and CLI."""
