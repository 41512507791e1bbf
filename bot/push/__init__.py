"""Rasa's stored events pushed to the web app, so a waiting agent console wakes at once.

The console waits for a customer's message in a conversation an agent holds (the suggestions
long-poll). Without a push it could only read Rasa's tracker store again and again. With it:

- the Rasa server's event broker (`broker.WebAppPush`, `event_broker` in `endpoints.yml`) posts
  `{"sender_id", "event"}` (the event's kind only: no text, no personal data) to the web app's
  `POST /internal/events` for each customer message, pause, resume and session start it stores,
  without waiting for the answer; in the scaled topology it also hands every event on to
  RabbitMQ (`forward_to`);
- the web app (`signals`) wakes whoever waits on that conversation, who then reads the tracker
  store once. A push that is lost (web app restarting, queue full) costs at most
  `signals.FALLBACK_SECONDS`: the waiter reads the store again after that long anyway.
"""
