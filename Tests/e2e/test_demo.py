"""End-to-end: `sparkdeck demo` over HTTP — readiness, version, health states, outages from real sim failures."""

from __future__ import annotations

import re
import signal
import time
from datetime import timedelta

from e2e_support import NODE_IDS, SERVICE_IDS, SERVICE_NODES, Demo, is_alive, parse_time, poll, send, utcnow

# started_at of an outage is stamped by the server; allow for millisecond rounding between our clock reading and its.
CLOCK_SLACK = timedelta(milliseconds=200)


def test_ready_health_and_announced_url(demo: Demo):
    ready = demo.get("/readyz")
    assert ready.status_code == 200, f"/readyz: HTTP {ready.status_code}: {ready.text[:300]}"

    health = demo.get("/healthz")
    assert health.status_code == 200, f"/healthz: HTTP {health.status_code}: {health.text[:300]}"
    assert health.json().get("status") == "ok", f"/healthz body: {health.text[:300]}"

    # A user reads the address off the terminal: the demo must print it (and flush it, even into a file).
    announced = f"http://127.0.0.1:{demo.port}"
    poll(
        lambda: (announced in demo.log_path.read_text(errors="replace"), demo.log_tail(20)),
        5.0,
        f"the demo printing {announced}",
    )


def test_version(demo: Demo):
    version = demo.get_json("/api/version").get("version")
    assert isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version), f"/api/version version: {version!r}"
    assert demo.status()["version"] == version, "/api/status and /api/version disagree on the version"


def test_all_services_come_up(demo: Demo):
    states = demo.wait_all_up(timeout=30)
    assert set(states) == set(SERVICE_IDS), f"services in /api/status: {sorted(states)}"

    status = demo.status()
    assert status["demo"] is True, "/api/status should say demo: true"
    nodes = {n["id"]: n for n in status["nodes"]}
    assert set(nodes) == set(NODE_IDS), f"nodes in /api/status: {sorted(nodes)}"
    for service in status["services"]:
        assert service["node"] == SERVICE_NODES[service["id"]], f"service {service['id']} on {service['node']}"
        assert service["id"] in nodes[service["node"]]["services"], (
            f"node {service['node']} does not list service {service['id']}: {nodes[service['node']]}"
        )
    def nodes_up():
        node_states = {n["id"]: n["state"] for n in demo.status()["nodes"]}
        return all(state == "up" for state in node_states.values()), node_states

    poll(nodes_up, 30.0, "both nodes `up` in /api/status")

    # Every running sim has a pid file naming a live process of this demo.
    for service_id in SERVICE_IDS:
        assert is_alive(demo.sim_pid(service_id, timeout=2.0))


def test_killed_sim_goes_down_restarts_and_is_logged_as_outage(demo: Demo):
    demo.wait_all_up(timeout=30)
    old_pid = demo.sim_pid("tts")

    killed_at = utcnow()
    send(old_pid, signal.SIGKILL)

    poll(
        lambda: ((state := demo.service_states()["tts"]) != "up", state),
        2.0,
        "tts leaving `up` after its sim was SIGKILLed",
        interval=0.05,
    )

    # The restart policy brings a new sim (new pid file) and the service back.
    new_pid = demo.sim_pid("tts", timeout=20.0, not_pid=old_pid)
    assert new_pid != old_pid
    poll(lambda: ((state := demo.service_states()["tts"]) == "up", state), 20.0, "tts back `up` after the restart")
    assert not is_alive(old_pid), f"the killed sim {old_pid} is still alive"

    def ended_outage():
        rows = demo.outages("tts", since=killed_at - CLOCK_SLACK)
        ended = [r for r in rows if r["ended_at"] is not None]
        return bool(ended), rows

    rows = poll(ended_outage, 10.0, "an ended outage for tts in /api/connectivity")
    outage = next(r for r in rows if r["ended_at"] is not None)
    assert outage["target_kind"] == "service", outage
    assert outage["duration_seconds"] > 0, outage
    measured = (parse_time(outage["ended_at"]) - parse_time(outage["started_at"])).total_seconds()
    assert abs(measured - outage["duration_seconds"]) < 0.25, f"duration_seconds disagrees with the times: {outage}"
    # The outage cannot outlast the time since the kill.
    assert outage["duration_seconds"] < (utcnow() - killed_at).total_seconds() + 0.5, outage


def test_hung_sim_gives_outage_of_the_hang_length(demo: Demo):
    demo.wait_all_up(timeout=30)
    pid = demo.sim_pid("embeddings")

    stopped_at = utcnow()
    send(pid, signal.SIGSTOP)
    try:
        time.sleep(1.5)  # the stimulus: the sim hangs for 1.5 s (not a stand-in for a check)
    finally:
        send(pid, signal.SIGCONT)

    def ended_outage():
        rows = demo.outages("embeddings", since=stopped_at - CLOCK_SLACK)
        done = bool(rows) and all(r["ended_at"] is not None for r in rows)
        return done, rows

    rows = poll(ended_outage, 10.0, "an ended outage for embeddings in /api/connectivity")
    assert len(rows) == 1, f"one hang should give exactly one outage, got {rows}"
    duration = rows[0]["duration_seconds"]
    assert 1.0 <= duration <= 2.2, f"a 1.5 s hang gave an outage of {duration} s: {rows[0]}"

    # The hang did not make anyone restart the sim, and the service is serving again.
    assert demo.sim_pid("embeddings") == pid, "the hung embeddings sim was replaced"
    poll(lambda: ((s := demo.service_states()["embeddings"]) == "up", s), 10.0, "embeddings `up` after the hang")
