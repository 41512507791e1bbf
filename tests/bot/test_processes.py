"""Watching real child processes: start-up, a death, a process that stops answering."""

import sys

import pytest

from bot import processes, settings
from bot.processes import ManagedProcess, Watchdog, free_port
from bot.rasa_server import rasa_arguments
from bot.settings import ROOT, Settings
from shop.endpoint_secret import ENV as ENDPOINT_SECRET_ENV


def child(tmp_path, name, code, port):
    return ManagedProcess(
        name=name,
        command=[sys.executable, "-c", code],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / f"{name}.log",
    )


def server(tmp_path, name):
    port = free_port()
    code = (
        "import http.server, sys\n"
        "print('serving', flush=True)\n"
        f"http.server.HTTPServer(('127.0.0.1', {port}), "
        "http.server.SimpleHTTPRequestHandler).serve_forever()\n"
    )
    return child(tmp_path, name, code, port)


def test_a_death_is_seen_and_a_silent_process_is_reported_once(tmp_path):
    web, actions = server(tmp_path, "web"), server(tmp_path, "actions")
    processes.start_all([web, actions], timeout=20)
    try:
        watchdog = Watchdog([web, actions], misses_allowed=2)
        assert watchdog.dead() == [] and watchdog.check_health() == []
        actions.health_url = f"http://127.0.0.1:{free_port()}/"  # alive, but no longer answering
        assert watchdog.check_health() == []
        [note] = watchdog.check_health()
        assert note.startswith("actions is running but has not answered") and "2 times" in note
        assert watchdog.check_health() == []  # reported once, not every time
        web.popen.kill()
        web.popen.wait(timeout=10)
        assert watchdog.dead() == [web]
        assert "serving" in web.log_tail()
    finally:
        processes.stop_all([web, actions])
    assert watchdog.dead() == [web, actions]


def test_a_process_that_answers_again_is_reported(tmp_path):
    web = server(tmp_path, "web")
    processes.start_all([web], timeout=20)
    try:
        watchdog = Watchdog([web], misses_allowed=1)
        answering = web.health_url
        web.health_url = f"http://127.0.0.1:{free_port()}/"
        assert len(watchdog.check_health()) == 1
        web.health_url = answering
        assert watchdog.check_health() == ["web answers its health check again"]
    finally:
        processes.stop_all([web])


def test_a_child_that_exits_during_start_up_is_a_start_up_error(tmp_path):
    broken = child(tmp_path, "broken", "import sys; print('no model'); sys.exit(3)", free_port())
    with pytest.raises(processes.StartupError, match="broken exited during start-up"):
        processes.start_all([broken], timeout=20)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_crashed_child_is_restarted_with_back_off_while_the_others_keep_serving(tmp_path):
    web, actions = server(tmp_path, "web"), server(tmp_path, "actions")
    processes.start_all([web, actions], timeout=20)
    clock = FakeClock()
    supervisor = processes.Supervisor(
        [web, actions], first_delay=1, max_delay=4, stable_after=100, clock=clock
    )
    try:
        first_web = web.popen.pid
        actions.popen.kill()
        actions.popen.wait(timeout=10)
        [died] = supervisor.tick()
        assert died.startswith("actions died") and "restarting it in 1 s" in died
        assert supervisor.tick() == []  # not yet due
        clock.now = 1
        assert supervisor.tick() == ["actions restarted (restart 1)"]
        assert actions.alive() and web.popen.pid == first_web
        for delay in (2, 4, 4):  # each death soon after a restart doubles the wait, up to 4
            actions.popen.kill()
            actions.popen.wait(timeout=10)
            [died] = supervisor.tick()
            assert f"restarting it in {delay} s" in died
            clock.now += delay
            assert supervisor.tick()[0].startswith("actions restarted")
        clock.now += 100  # ran long enough: the next death waits 1 s again
        assert supervisor.tick() == []
        actions.popen.kill()
        actions.popen.wait(timeout=10)
        assert "restarting it in 1 s" in supervisor.tick()[0]
        assert web.alive() and web.popen.pid == first_web and supervisor.restarts["web"] == 0
    finally:
        processes.stop_all([web, actions])


def test_supervise_restarts_until_stopped_and_leaves_stopping_to_the_caller(tmp_path):
    web = server(tmp_path, "web")
    processes.start_all([web], timeout=20)
    first = web.popen.pid
    web.popen.kill()
    web.popen.wait(timeout=10)
    ticks = []

    def stopping():
        ticks.append(1)
        return web.alive() and web.popen.pid != first or len(ticks) > 50

    try:
        processes.supervise([web], stopping, health_every=5, tick_seconds=0.1)
        assert web.alive() and web.popen.pid != first
    finally:
        processes.stop_all([web])
    assert not web.alive()


def test_a_hung_child_is_stopped_by_the_term_signal(tmp_path):
    web = server(tmp_path, "web")
    processes.start_all([web], timeout=20)
    web.popen.send_signal(19)  # SIGSTOP: hung
    web.stop(grace=5)
    assert not web.alive() and web.popen.returncode == -15  # ended by the TERM, not the KILL


def test_children_and_their_logs_are_owner_only(tmp_path):
    code = "open('made-by-child.txt', 'w').write('x'); print('done', flush=True)"
    maker = child(tmp_path, "maker", f"import os; os.chdir({str(tmp_path)!r}); {code}", free_port())
    maker.start()
    assert maker.popen.wait(timeout=20) == 0
    assert (tmp_path / "made-by-child.txt").stat().st_mode & 0o777 == 0o600
    assert maker.log_path.stat().st_mode & 0o777 == 0o600
    processes.owner_only_dir(tmp_path / "var")
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700


def settings_for(tmp_path):
    return Settings(
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        rasa_token="token-" + "1" * 20,
        signing_key="signing-" + "2" * 20,
        var_dir=tmp_path / "var",
        models_dir=tmp_path / "models",
        endpoints=ROOT / "endpoints.yml",
        credentials=ROOT / "credentials.yml",
        endpoint_secret="endpoint-" + "3" * 20,
    )


def test_no_secret_is_on_any_command_line(tmp_path):
    config = settings_for(tmp_path)
    children = processes.stack(config, tmp_path / "logs")
    secrets = (config.rasa_token, config.signing_key, config.endpoint_secret)
    for started in children:
        assert not any(secret in part for part in started.command for secret in secrets)
        assert started.env[ENDPOINT_SECRET_ENV] == config.endpoint_secret
    [rasa] = [c for c in children if c.name == "rasa server"]
    assert rasa.env["RASA_TOKEN"] == config.rasa_token
    assert rasa.command[1:3] == ["-m", "bot.rasa_server"]


def test_the_launcher_hands_rasa_the_token_and_refuses_one_on_the_command_line():
    assert rasa_arguments(["--enable-api"], "tok") == [
        "rasa",
        "run",
        "--enable-api",
        "--auth-token",
        "tok",
    ]
    for given in (["--auth-token", "x"], ["--auth-token=x"]):
        with pytest.raises(ValueError, match="RASA_TOKEN"):
            rasa_arguments(given, "tok")


def test_secrets_kept_in_var_are_owner_only_and_survive_a_restart(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path / "var"))
    for name in ("SHOP_SIGNING_KEY", ENDPOINT_SECRET_ENV, "TRACKER_DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    first = settings.load()
    assert first.endpoint_secret and first.endpoint_secret != first.signing_key
    for name in ("endpoint_secret", "signing_key"):
        assert (tmp_path / "var" / name).stat().st_mode & 0o777 == 0o600
    assert settings.load().endpoint_secret == first.endpoint_secret
    monkeypatch.setenv(ENDPOINT_SECRET_ENV, "from-the-environment")
    assert settings.load().endpoint_secret == "from-the-environment"
