"""Agent assist inside the Rasa server: drafts of what the bot would do, performed when sent."""
