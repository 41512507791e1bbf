"""The notice job's settings and its behaviour when the Rasa server is not up."""

import socket

from bot import settings as bot_settings
from bot.notices import job


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_DEFAULT_PERSONA", "master")
    monkeypatch.setenv("SHOP_NOTICE_INTERVAL", "0")
    monkeypatch.setenv("WEB_PORT", "8123")
    config = bot_settings.load()
    assert config.default_persona == "master"
    assert config.notice_interval == 0
    assert config.nlg_url == "http://127.0.0.1:8123/nlg"


def test_notices_wait_while_rasa_is_not_running(monkeypatch, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_PORT", str(port))
    assert "not ready" in job._run(bot_settings.load())


def test_the_job_is_off_when_the_interval_is_zero(monkeypatch, tmp_path):
    from sanic import Sanic

    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_NOTICE_INTERVAL", "0")
    app = Sanic("notice_job_off")
    job.install(app, bot_settings.load())
    assert [f.event for f in app._future_listeners] == []
    monkeypatch.setenv("SHOP_NOTICE_INTERVAL", "60")
    on = Sanic("notice_job_on")
    job.install(on, bot_settings.load())
    assert [f.event for f in on._future_listeners] == ["after_server_start"]
