"""The web app: persona NLG endpoint, storefront with the chat widget, agent console."""
