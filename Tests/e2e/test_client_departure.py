"""What a client that goes away, or another machine on the LAN, can and cannot do to work that is not theirs."""

from __future__ import annotations

import http.client
import json
import socket
import time

import requests

from e2e_support import Demo

# The sim generates 50 tokens a second: 4000 tokens keep a request busy for 80 s.
LONG_CHAT = {"model": "sparksim/small-8b", "max_tokens": 4000, "messages": [{"role": "user", "content": "hi"}]}


def vllm_gate(demo: Demo) -> dict:
    return requests.get(demo.url("/api/status"), timeout=10).json()["gateway"]["gates"].get("vllm", {})


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def open_chat(demo: Demo) -> socket.socket:
    body = json.dumps(LONG_CHAT).encode()
    sock = socket.create_connection(("127.0.0.1", demo.port))
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{demo.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def wait_for_the_llm(demo: Demo) -> None:
    """The demo loads its model after start-up: chats get 503 until then."""
    short = {**LONG_CHAT, "max_tokens": 1}

    def answered() -> bool:
        return requests.post(demo.url("/v1/chat/completions"), json=short, timeout=30).status_code == 200

    assert wait_for(answered, 90), "the demo's LLM never answered"


def test_clients_that_leave_give_their_slots_back_before_their_generations_end(demo: Demo) -> None:
    wait_for_the_llm(demo)
    socks = [open_chat(demo) for _ in range(3)]
    assert wait_for(lambda: vllm_gate(demo).get("in_flight") == 3, 30), vllm_gate(demo)
    for sock in socks:
        sock.close()
    # Well inside the 80 s the generations would take: the slots came back because the clients left.
    assert wait_for(lambda: vllm_gate(demo).get("in_flight") == 0, 40), vllm_gate(demo)


def test_a_client_that_stays_keeps_its_connection_for_the_next_request(demo: Demo) -> None:
    wait_for_the_llm(demo)
    body = json.dumps({**LONG_CHAT, "max_tokens": 3})
    connection = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=60)
    try:
        sockets = []
        for _ in range(2):
            connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200, response.read()[:300]
            response.read()
            # http.client opens a new socket when the server closed the last one: the same one means keep-alive held.
            sockets.append(connection.sock)
        assert sockets[0] is not None and sockets[0] is sockets[1], "watching for a departure must not end keep-alive"
    finally:
        connection.close()


def call_from(address: str, demo: Demo, path: str, payload: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=30, source_address=(address, 0))
    try:
        connection.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_without_keys_a_scrub_session_belongs_to_the_address_that_made_it(demo: Demo) -> None:
    status, scrubbed = call_from("127.0.0.1", demo, "/scrub", {"text": "Mail Ingrid Kowalczyk at ingrid.k@example.org"})
    assert status == 200, scrubbed
    session = scrubbed["session_id"]
    assert "ingrid.k@example.org" not in scrubbed["text"]

    status, stolen = call_from("127.0.0.2", demo, "/rehydrate", {"text": scrubbed["text"], "session_id": session})
    assert status == 404, f"another machine read the session: {stolen}"
    status, reused = call_from("127.0.0.2", demo, "/scrub", {"text": "x", "session_id": session})
    assert status == 409 and reused["error"]["code"] == "session_id_taken", reused

    status, own = call_from("127.0.0.1", demo, "/rehydrate", {"text": scrubbed["text"], "session_id": session})
    assert status == 200 and "ingrid.k@example.org" in own["text"], own
