"""Watching real child processes: start-up, a death, a process that stops answering."""

import sys

import pytest

from bot import processes
from bot.processes import ManagedProcess, Watchdog, free_port


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
