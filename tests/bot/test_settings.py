"""Where the web app and the visitor's browser find Rasa: this host by default, else configured."""

from types import SimpleNamespace

from bot import settings as bot_settings
from bot.web.storefront import rasa_public_url


def loaded(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_SIGNING_KEY", "k")
    monkeypatch.setenv("SHOP_ENDPOINT_SECRET", "s")
    for name in ("SHOP_RASA_URL", "SHOP_RASA_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return bot_settings.load()


def test_by_default_rasa_is_on_this_host_and_the_pages_host(monkeypatch, tmp_path):
    config = loaded(monkeypatch, tmp_path, SHOP_HOST="127.0.0.1", RASA_PORT="5123")
    assert config.rasa_url == "http://127.0.0.1:5123"
    page = SimpleNamespace(host="shop.example:8000", scheme="https")
    assert rasa_public_url(page, config) == "https://shop.example:5123"


def test_a_cluster_names_the_service_and_the_public_origin(monkeypatch, tmp_path):
    config = loaded(
        monkeypatch,
        tmp_path,
        SHOP_RASA_URL="http://rasa:5005/",
        SHOP_RASA_PUBLIC_URL="https://shop.example/",
    )
    assert config.rasa_url == "http://rasa:5005"
    page = SimpleNamespace(host="shop.example", scheme="https")
    assert rasa_public_url(page, config) == "https://shop.example"
