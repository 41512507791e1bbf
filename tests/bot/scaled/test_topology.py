"""The scaled topology's settings and process layout (nothing started here)."""

import os

import pytest

from bot import run
from bot.processes import free_port
from bot.scaled import services, topology
from bot.scaled.balancer import Replica
from bot.settings import ROOT, Settings

SCALE_OUT = ROOT / "endpoints.scale-out.yml"


def settings_for(tmp_path, endpoints=ROOT / "endpoints.yml"):
    return Settings(
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        rasa_token="token-" + "1" * 20,
        signing_key="signing-" + "2" * 20,
        var_dir=tmp_path / "var",
        models_dir=tmp_path / "models",
        endpoints=endpoints,
        credentials=ROOT / "credentials.yml",
        endpoint_secret="endpoint-" + "3" * 20,
    )


def test_the_defaults_are_this_machines_local_services():
    found = services.from_env({})
    assert (found.replicas, found.replica_port) == (2, 5006)
    assert found.shop_database_url == "postgresql+psycopg2://postgres@127.0.0.1:5432/shop"
    assert found.demo and found.env()["SHOP_DEMO"] == "1"
    assert found.tracker_url == "postgresql+psycopg2://postgres@127.0.0.1:5432/rasa"
    assert found.socketio_redis_url == "redis://127.0.0.1:6379/2"
    assert (found.rabbitmq_user, found.rabbitmq_password) == ("guest", "guest")
    assert [port for _, _, port in found.endpoints()] == [5432, 6379, 5672]


def test_a_given_shop_database_is_not_a_demo_and_passwords_are_quoted():
    found = services.from_env(
        {
            "RASA_REPLICAS": "3",
            "SHOP_DATABASE_URL": "postgresql+psycopg2://shop:pw@db.internal:5433/shop",
            "TRACKER_DB_HOST": "pg.internal",
            "TRACKER_DB_USER": "rasa",
            "TRACKER_DB_PASSWORD": "p@ss/word",
            "REDIS_HOST": "cache.internal",
        }
    )
    assert found.replicas == 3 and not found.demo and "SHOP_DEMO" not in found.env()
    assert found.tracker_url == "postgresql+psycopg2://rasa:p%40ss%2Fword@pg.internal:5432/rasa"
    assert found.socketio_redis_url == "redis://cache.internal:6379/2"
    assert ("PostgreSQL (shop)", "db.internal", 5433) in found.endpoints()


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_replica_count_must_be_a_positive_number(value):
    with pytest.raises(ValueError, match="RASA_REPLICAS"):
        services.from_env({"RASA_REPLICAS": value})


def test_replicas_sit_behind_the_balancer_and_the_web_app_talks_to_the_balancer(tmp_path):
    config = topology.scaled_settings(settings_for(tmp_path))
    assert config.endpoints == SCALE_OUT
    shared = services.from_env({"TRACKER_DB_PASSWORD": "tracker-" + "4" * 20})
    ports = [free_port(), free_port()]
    laid_out = topology.build(config, shared, tmp_path / "logs", ports, haproxy="/bin/true")
    names = [p.name for p in laid_out.processes]
    assert names == [
        "web app",
        "action server",
        "rasa replica rasa-1",
        "rasa replica rasa-2",
        "load balancer",
    ]
    assert laid_out.replicas == [
        Replica("rasa-1", "127.0.0.1", ports[0]),
        Replica("rasa-2", "127.0.0.1", ports[1]),
    ]
    for replica, port in zip(laid_out.rasa, ports, strict=True):
        assert replica.command[replica.command.index("--port") + 1] == str(port)
        assert replica.command[replica.command.index("--endpoints") + 1] == str(SCALE_OUT)
        assert replica.env["TRACKER_DB_NAME"] == "rasa" and replica.env["REDIS_HOST"]
        assert replica.log_path.name == f"rasa-{ports.index(port) + 1}.log"
    assert laid_out.web.env["RASA_PORT"] == str(config.rasa_port)  # the balancer's port
    assert laid_out.web.env["SHOP_RASA_REPLICAS"] == ",".join(
        f"http://127.0.0.1:{port}" for port in ports
    )
    assert laid_out.balancer.command[-1].endswith("haproxy.cfg")
    written = (config.var_dir / "balancer" / "haproxy.cfg").read_text()
    secrets = (config.rasa_token, config.signing_key, config.endpoint_secret, "tracker-4444")
    for child in laid_out.processes:
        assert not any(secret in part for part in child.command for secret in secrets)
    assert not any(secret in written for secret in secrets)


def test_ports_must_match_the_replicas_and_leave_the_balancers_port_free(tmp_path):
    config = settings_for(tmp_path, SCALE_OUT)
    shared = services.from_env({})
    with pytest.raises(ValueError, match="2 replicas"):
        topology.build(config, shared, tmp_path / "logs", [free_port()], haproxy="/bin/true")
    with pytest.raises(ValueError, match="balancer's port"):
        topology.build(
            config, shared, tmp_path / "logs", [config.rasa_port, free_port()], haproxy="/bin/true"
        )


def test_other_endpoints_than_the_default_are_kept(tmp_path):
    own = tmp_path / "my-endpoints.yml"
    assert topology.scaled_settings(settings_for(tmp_path, own)).endpoints == own


def test_run_scaled_refuses_to_start_without_its_services(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("REDIS_HOST", "127.0.0.2")  # loopback, but nothing listens there
    monkeypatch.setenv("RABBITMQ_HOST", "127.0.0.2")
    umask = os.umask(0o022)  # the runner sets the owner-only umask of its process
    try:
        assert run.main(["--scaled"]) == 1
    finally:
        os.umask(umask)
    said = capsys.readouterr().err
    assert "not reachable" in said and "Redis (127.0.0.2:6379)" in said
    assert "RabbitMQ (127.0.0.2:5672)" in said
