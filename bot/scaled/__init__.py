"""The scaled-out topology on one machine: several Rasa replicas behind HAProxy.

`make run-scaled` (`python -m bot.run --scaled`) starts the web app and the action server as
`make run` does, `RASA_REPLICAS` Rasa servers on internal ports, and HAProxy on the public Rasa
port in front of them; all share the local PostgreSQL (shop database and tracker store), Redis
(lock store, socket.io emits, duplicate message ids) and RabbitMQ (event broker) through
`endpoints.scale-out.yml`.

- `services.py`: where those services are (environment, with this machine's defaults), whether
  they answer, and the variables every child gets.
- `databases.py`: creates the shop and tracker databases and seeds the shop
  (`python -m bot.scaled.databases`).
- `balancer.py` and `haproxy.cfg.template`: the balancer's configuration, written at start.
- `topology.py`: the processes (replicas, balancer, web app, action server) for the runner.
"""
