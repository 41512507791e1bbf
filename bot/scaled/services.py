"""Where the scale-out's PostgreSQL, Redis and RabbitMQ are, and what every child is told.

Each setting comes from the variable `endpoints.scale-out.yml` and `shop/settings.py` already
read, with this machine's local services as the default:

| variable | default |
|---|---|
| `RASA_REPLICAS` | `2` Rasa replicas behind the balancer |
| `RASA_REPLICA_PORT` | `5006`: replica *i* (from 0) listens on this port + *i* |
| `SHOP_DATABASE_URL` | `postgresql+psycopg2://postgres@127.0.0.1:5432/shop` |
| `TRACKER_DB_HOST`, `TRACKER_DB_NAME` | `127.0.0.1`, `rasa` |
| `TRACKER_DB_USER`, `TRACKER_DB_PASSWORD` | `postgres`, empty (the local server trusts loopback) |
| `REDIS_HOST` (`REDIS_PASSWORD` if set) | `127.0.0.1` |
| `SOCKETIO_REDIS_URL` | `redis://<REDIS_HOST>:6379/2` |
| `RABBITMQ_HOST`, `RABBITMQ_USER`, `RABBITMQ_PASSWORD` | `127.0.0.1`, `guest`, `guest` |

When `SHOP_DATABASE_URL` is not given, the local `shop` database is the demo shop (seeded, with
the demo accounts, `SHOP_DEMO=1`); a given URL is a real shop's database and gets neither.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

POSTGRES_PORT = 5432  # endpoints.scale-out.yml names these ports
REDIS_PORT = 6379
RABBITMQ_PORT = 5672
DEFAULT_REPLICAS = 2
DEFAULT_REPLICA_PORT = 5006


@dataclass(frozen=True)
class ScaledServices:
    """The shared services of the scaled topology and how many Rasa replicas use them.

    Attributes:
        replicas: How many Rasa servers run behind the balancer.
        replica_port: The first replica's port (the others follow it).
        shop_database_url: The shop database (SQLAlchemy URL).
        shop_database_given: True when `SHOP_DATABASE_URL` was set (no demo data then).
        tracker_host: PostgreSQL host of the tracker store.
        tracker_database: The tracker store's database.
        tracker_user: Its user.
        tracker_password: Its password (empty: none).
        redis_host: Redis (lock store, socket.io emits and duplicate ids).
        socketio_redis_url: The Redis URL of the socket.io channel.
        rabbitmq_host: RabbitMQ (the event broker).
        rabbitmq_user: Its user.
        rabbitmq_password: Its password.
    """

    replicas: int
    replica_port: int
    shop_database_url: str
    shop_database_given: bool
    tracker_host: str
    tracker_database: str
    tracker_user: str
    tracker_password: str
    redis_host: str
    socketio_redis_url: str
    rabbitmq_host: str
    rabbitmq_user: str
    rabbitmq_password: str

    @property
    def demo(self) -> bool:
        """The shop database is the local demo shop (no `SHOP_DATABASE_URL` given)."""
        return not self.shop_database_given

    @property
    def tracker_url(self) -> str:
        """SQLAlchemy URL of the tracker store's database."""
        return self.tracker_server_url(self.tracker_database)

    def tracker_server_url(self, database: str) -> str:
        """SQLAlchemy URL of another database on the tracker store's server (e.g. `postgres`)."""
        user = quote(self.tracker_user, safe="")
        password = quote(self.tracker_password, safe="")
        login = f"{user}:{password}@" if password else f"{user}@" if user else ""
        return f"postgresql+psycopg2://{login}{self.tracker_host}:{POSTGRES_PORT}/{database}"

    def endpoints(self) -> List[Tuple[str, str, int]]:
        """Every service as (name, host, port), for the reachability check."""
        shop = _host_port(self.shop_database_url)
        found = [
            ("PostgreSQL (tracker store)", self.tracker_host, POSTGRES_PORT),
            ("Redis", self.redis_host, REDIS_PORT),
            ("RabbitMQ", self.rabbitmq_host, RABBITMQ_PORT),
        ]
        if shop is not None and shop != (self.tracker_host, POSTGRES_PORT):
            found.insert(1, ("PostgreSQL (shop)", *shop))
        return found

    def env(self) -> Dict[str, str]:
        """The variables every child of the scaled topology gets (passwords in env, not argv)."""
        env = {
            "SHOP_DATABASE_URL": self.shop_database_url,
            "TRACKER_DB_HOST": self.tracker_host,
            "TRACKER_DB_NAME": self.tracker_database,
            "TRACKER_DB_USER": self.tracker_user,
            "TRACKER_DB_PASSWORD": self.tracker_password,
            "REDIS_HOST": self.redis_host,
            "SOCKETIO_REDIS_URL": self.socketio_redis_url,
            "RABBITMQ_HOST": self.rabbitmq_host,
            "RABBITMQ_USER": self.rabbitmq_user,
            "RABBITMQ_PASSWORD": self.rabbitmq_password,
        }
        if self.demo:
            env["SHOP_DEMO"] = "1"
        return env


def _host_port(url: str) -> Optional[Tuple[str, int]]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.host:
        return None
    return parsed.host, parsed.port or POSTGRES_PORT


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


def from_env(environ: Optional[Mapping[str, str]] = None) -> ScaledServices:
    """The scaled topology's services from the environment, with this machine's defaults.

    Raises:
        ValueError: when `RASA_REPLICAS` or `RASA_REPLICA_PORT` is not a positive number.
    """
    environ = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        return environ.get(name) or default

    redis_host = get("REDIS_HOST", "127.0.0.1")
    tracker_host = get("TRACKER_DB_HOST", "127.0.0.1")
    shop_url = (environ.get("SHOP_DATABASE_URL") or "").strip()
    return ScaledServices(
        replicas=_positive(environ, "RASA_REPLICAS", DEFAULT_REPLICAS),
        replica_port=_positive(environ, "RASA_REPLICA_PORT", DEFAULT_REPLICA_PORT),
        shop_database_url=shop_url
        or f"postgresql+psycopg2://postgres@{tracker_host}:{POSTGRES_PORT}/shop",
        shop_database_given=bool(shop_url),
        tracker_host=tracker_host,
        tracker_database=get("TRACKER_DB_NAME", "rasa"),
        tracker_user=get("TRACKER_DB_USER", "postgres"),
        tracker_password=environ.get("TRACKER_DB_PASSWORD") or "",
        redis_host=redis_host,
        socketio_redis_url=get("SOCKETIO_REDIS_URL", f"redis://{redis_host}:{REDIS_PORT}/2"),
        rabbitmq_host=get("RABBITMQ_HOST", "127.0.0.1"),
        rabbitmq_user=get("RABBITMQ_USER", "guest"),
        rabbitmq_password=get("RABBITMQ_PASSWORD", "guest"),
    )


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Tells whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing(services: ScaledServices) -> List[str]:
    """The services that do not accept connections, as "name (host:port)"."""
    return [
        f"{name} ({host}:{port})"
        for name, host, port in services.endpoints()
        if not reachable(host, port)
    ]
