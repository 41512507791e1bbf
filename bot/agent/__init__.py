"""The agent-assist console: staff sign-in, the queue, the conversation view and modes."""
