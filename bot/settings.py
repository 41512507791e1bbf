"""Settings of the processes `make run` starts, read from the environment once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from shop.endpoint_secret import ENV as ENDPOINT_SECRET_ENV

ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class Settings:
    """Where each process listens and where its state lives."""

    host: str
    rasa_port: int
    action_port: int
    web_port: int
    rasa_token: str
    signing_key: str
    var_dir: Path
    models_dir: Path
    endpoints: Path
    credentials: Path
    default_persona: str = "default"
    notice_interval: float = 300.0
    tracker_store: str = ""
    endpoint_secret: str = (
        ""  # what Rasa sends to the action server and /nlg (shop.endpoint_secret)
    )
    rasa_url_override: str = ""  # SHOP_RASA_URL: Rasa as the web app reaches it (a Service)
    rasa_public_url: str = ""  # SHOP_RASA_PUBLIC_URL: Rasa as the visitor's browser reaches it

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server: `SHOP_RASA_URL`, else this host at `RASA_PORT`."""
        return self.rasa_url_override.rstrip("/") or f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        """Webhook URL of the action server."""
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def web_url(self) -> str:
        """Base URL of the web app (storefront, agent console, NLG endpoint)."""
        return f"http://{self.host}:{self.web_port}"

    @property
    def nlg_url(self) -> str:
        """The persona renderer Rasa calls for every response (the web app's /nlg)."""
        return f"{self.web_url}/nlg"

    @property
    def events_url(self) -> str:
        """Where Rasa's event broker pushes stored events (the web app's, `bot.event_push`)."""
        return f"{self.web_url}/internal/events"

    @property
    def tracker_db(self) -> Path:
        """SQLite file of the embedded tracker store."""
        return self.var_dir / "tracker.db"

    @property
    def tracker_store_url(self) -> str:
        """SQLAlchemy URL of Rasa's tracker store: the scale-out PostgreSQL one, else the file."""
        return self.tracker_store or f"sqlite:///{self.tracker_db}"


def write_secret(path: Path, value: str) -> None:
    """Writes a secret to a file only its owner can read, from the moment it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value)
    path.chmod(0o600)  # a file left by an older version may have had wider rights


def _kept_secret(env: str, path: Path) -> str:
    """The variable `env`, or a random secret kept in `path` (owner-only) across restarts."""
    value = os.environ.get(env)
    if value:
        return value
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    write_secret(path, value)
    return value


def _scale_out_tracker_store() -> str:
    """The PostgreSQL tracker store `endpoints.scale-out.yml` names (its variables), if any."""
    host = os.environ.get("TRACKER_DB_HOST")
    if not host:
        return ""
    user = quote(os.environ.get("TRACKER_DB_USER") or "", safe="")
    password = quote(os.environ.get("TRACKER_DB_PASSWORD") or "", safe="")
    login = f"{user}:{password}@" if password else f"{user}@" if user else ""
    name = os.environ.get("TRACKER_DB_NAME") or "rasa"
    return f"postgresql+psycopg2://{login}{host}:5432/{name}"


def load() -> Settings:
    """Reads the settings from the environment, with the embedded defaults."""
    var_dir = Path(_env("SHOP_VAR_DIR", str(ROOT / "var")))
    return Settings(
        host=_env("SHOP_HOST", "127.0.0.1"),
        rasa_port=int(_env("RASA_PORT", "5005")),
        action_port=int(_env("ACTION_PORT", "5055")),
        web_port=int(_env("WEB_PORT", "8000")),
        rasa_token=_env("RASA_TOKEN", secrets.token_urlsafe(24)),
        signing_key=_kept_secret("SHOP_SIGNING_KEY", var_dir / "signing_key"),
        var_dir=var_dir,
        models_dir=Path(_env("SHOP_MODELS_DIR", str(ROOT / "models"))),
        endpoints=Path(_env("RASA_ENDPOINTS", str(ROOT / "endpoints.yml"))),
        credentials=Path(_env("RASA_CREDENTIALS", str(ROOT / "credentials.yml"))),
        default_persona=_env("SHOP_DEFAULT_PERSONA", "default"),
        notice_interval=float(_env("SHOP_NOTICE_INTERVAL", "300")),
        tracker_store=_scale_out_tracker_store(),
        endpoint_secret=_kept_secret(ENDPOINT_SECRET_ENV, var_dir / "endpoint_secret"),
        rasa_url_override=_env("SHOP_RASA_URL", ""),
        rasa_public_url=_env("SHOP_RASA_PUBLIC_URL", ""),
    )
