"""The load balancer (Debian's HAProxy) in front of stand-in replicas: real processes, loopback.

The stand-ins (`replica_stub.py`) answer like Rasa's `/`, REST webhook and a socket.io echo, so
balancing, socket.io stickiness, the health checks and a dead replica are checked in seconds;
`tests/e2e/test_scaled_topology.py` does the same with real Rasa replicas.
"""

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from bot import processes
from bot.processes import ManagedProcess, free_port
from bot.scaled import balancer

STUB = Path(__file__).with_name("replica_stub.py")
HOST = "127.0.0.1"

needs_haproxy = pytest.mark.skipif(
    balancer.binary() is None, reason="haproxy is not installed (make balancer installs it)"
)


def stub(tmp_path: Path, name: str) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(
        name=name,
        command=[sys.executable, str(STUB), str(port)],
        health_url=f"http://{HOST}:{port}/",
        log_path=tmp_path / f"{name}.log",
    )


def port_of(process: ManagedProcess) -> int:
    return int(process.health_url.rsplit(":", 1)[1].strip("/"))


class Balanced:
    """Two stand-in replicas behind a running balancer."""

    def __init__(self, tmp_path: Path):
        self.stubs = [stub(tmp_path, "rasa-1"), stub(tmp_path, "rasa-2")]
        self.replicas = [balancer.Replica(s.name, HOST, port_of(s)) for s in self.stubs]
        self.port = free_port()
        self.folder = tmp_path / "balancer"
        self.front = balancer.process(self.replicas, HOST, self.port, self.folder, tmp_path)
        self.url = f"http://{HOST}:{self.port}"

    def __enter__(self):
        processes.start_all([*self.stubs, self.front], timeout=60)
        self.wait_for(lambda states: set(states.values()) == {"UP"})
        return self

    def __exit__(self, *exc):
        processes.stop_all([*self.stubs, self.front])

    def states(self) -> dict:
        return balancer.server_states(balancer.stats_socket_path(self.folder))

    def wait_for(self, condition, seconds: float = 15.0) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            states = self.states()
            if condition(states) or time.monotonic() > deadline:
                return states
            time.sleep(0.1)

    def post(self, sender: str):
        request = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": "hi"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.headers[balancer.REPLICA_HEADER], json.loads(answer.read())


def socket_echoes(url: str, transports: list, count: int = 3):
    """Connects a socket.io client, emits `count` echoes; the ports that answered, the transport."""
    import socketio

    answered, done = [], threading.Event()

    def on_echoed(message):
        answered.append(message["port"])
        if len(answered) == count:
            done.set()

    client = socketio.Client(reconnection=False)
    client.on("echoed", on_echoed)
    client.connect(url, transports=transports, wait_timeout=10)
    try:
        time.sleep(0.3)  # long enough for a polling client's upgrade to websocket
        for number in range(count):
            client.emit("echo", number)
            time.sleep(0.05)
        done.wait(10)
        return answered, client.transport()
    finally:
        client.eio.disconnect(abort=True)  # a polling client's polite close waits ~30 s


def test_the_configuration_is_valid_owner_only_and_lists_every_replica(tmp_path):
    replicas = [balancer.Replica(f"rasa-{n}", HOST, 7000 + n) for n in (1, 2, 3)]
    text = balancer.render(replicas, HOST, 7000, tmp_path / "b" / "haproxy.sock")
    path = balancer.write_config(tmp_path / "b", text)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert f"bind {HOST}:7000" in text
    for number in (1, 2, 3):
        assert f"server rasa-{number} {HOST}:{7000 + number} id {number} check" in text
        assert f"use-server rasa-{number} if {{ var(txn.sid_replica) -m int {number} }}" in text
    assert "$" not in text.replace("'$.sid'", "")  # every placeholder filled in
    if balancer.binary():
        checked = subprocess.run(
            [balancer.binary(), "-c", "-f", str(path)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_balancer_needs_replicas_with_distinct_names(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        balancer.render([], HOST, 7000, tmp_path / "s")
    twice = [balancer.Replica("rasa-1", HOST, 7001), balancer.Replica("rasa-1", HOST, 7002)]
    with pytest.raises(ValueError, match="differ"):
        balancer.render(twice, HOST, 7000, tmp_path / "s")


def test_without_haproxy_the_process_cannot_be_built(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(balancer, "_SEARCH_PATH", ())
    assert balancer.binary() is None
    with pytest.raises(FileNotFoundError, match="make balancer"):
        balancer.process([balancer.Replica("rasa-1", HOST, 7001)], HOST, 7000, tmp_path, tmp_path)


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    if balancer.binary() is None:
        pytest.skip("haproxy is not installed (make balancer installs it)")
    with Balanced(tmp_path_factory.mktemp("balanced")) as running:
        yield running


def test_requests_are_spread_over_the_replicas_and_say_which_one_answered(balanced):
    seen = Counter()
    for number in range(8):
        name, body = balanced.post(f"sender-{number}")
        assert body == [
            {"recipient_id": f"sender-{number}", "port": port_of(balanced.stubs[int(name[-1]) - 1])}
        ]
        seen[name] += 1
    assert set(seen) == {"rasa-1", "rasa-2"}


def test_a_long_polling_session_stays_on_the_replica_that_opened_it(balanced):
    ports = set()
    for _ in range(4):
        answered, transport = socket_echoes(balanced.url, ["polling"])
        assert transport == "polling"
        assert len(answered) == 3 and len(set(answered)) == 1  # every poll reached one replica
        ports.update(answered)
    assert ports == {port_of(s) for s in balanced.stubs}  # and sessions still spread


def test_a_polling_session_upgrades_to_websocket_through_the_balancer(balanced):
    answered, transport = socket_echoes(balanced.url, ["polling", "websocket"])
    assert transport == "websocket"
    assert len(answered) == 3 and len(set(answered)) == 1


def test_health_is_answered_by_the_balancer_itself(balanced):
    with urllib.request.urlopen(f"{balanced.url}{balancer.MONITOR_URI}", timeout=5) as answer:
        assert answer.status == 200
    assert balanced.states() == {"rasa-1": "UP", "rasa-2": "UP"}


@needs_haproxy
def test_a_dead_replica_is_taken_out_and_its_requests_go_to_the_other(tmp_path):
    with Balanced(tmp_path) as running:
        first, second = running.stubs
        first.popen.kill()
        first.popen.wait(timeout=10)
        names = [running.post(f"after-{n}")[0] for n in range(6)]  # before the check notices
        assert names == ["rasa-2"] * 6
        states = running.wait_for(lambda s: s.get("rasa-1") == "DOWN")
        assert states == {"rasa-1": "DOWN", "rasa-2": "UP"}
        answered, _ = socket_echoes(running.url, ["polling", "websocket"])
        assert set(answered) == {port_of(second)}
        first.start()  # restarted, as the runner's supervisor does: taken back in
        states = running.wait_for(lambda s: s.get("rasa-1") == "UP", seconds=30)
        assert states == {"rasa-1": "UP", "rasa-2": "UP"}
        second.popen.kill()
        second.popen.wait(timeout=10)
        first.popen.kill()
        first.popen.wait(timeout=10)
        running.wait_for(lambda s: set(s.values()) == {"DOWN"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{running.url}{balancer.MONITOR_URI}", timeout=5)
        assert refused.value.code == 503
