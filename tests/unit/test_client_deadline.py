"""The API client holds each request to one wall-clock deadline, its response headers
included, against a loopback server that sends its headers one byte every half second
(httpx's timeouts are per read, so none of them ever fires)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings
from nodion_pulumi._deadline import bound_streams, request_deadline
from nodion_pulumi._errors import NodionTimeoutError
from nodion_pulumi._retry import NO_RETRY

BODY = b'{"container_registries":[]}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)
# Half a second per byte of the headers: some 35 s before they would be complete.
BYTE_INTERVAL = 0.5
TIMEOUT = 1.0


class DribblingServer:
    """Answers the first ``prompt`` requests of each connection at once, then sends the
    headers of every later answer one byte per :data:`BYTE_INTERVAL` (the body follows at
    once), on one kept-alive connection."""

    def __init__(self, prompt: int) -> None:
        self.prompt = prompt
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.headers_completed = 0  # of dribbled answers: how many a client waited out
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            served = 0
            while not self.stopped.is_set() and _read_request(connection):
                try:
                    if served < self.prompt:
                        connection.sendall(ANSWER)
                    else:
                        self._dribble(connection)
                except OSError:
                    return  # the client gave up and closed the connection
                served += 1

    def _dribble(self, connection: socket.socket) -> None:
        headers_end = ANSWER.index(b"\r\n\r\n") + 4
        for index in range(headers_end):
            if index == headers_end - 1:
                self.headers_completed += 1  # counted before a client can see the last byte
            connection.sendall(ANSWER[index : index + 1])
            if self.stopped.wait(BYTE_INTERVAL):
                return
        connection.sendall(ANSWER[headers_end:])

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.listener.close()


def _read_request(connection: socket.socket) -> bool:
    """Read one request (these carry no body); False once the client has closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[DribblingServer]:
    running = DribblingServer(prompt=request.param)
    yield running
    running.stop()


def _client(port: int) -> NodionClient:
    settings = Settings(
        api_token="tok-deadline-4f2a9c",  # type: ignore[arg-type]
        api_url=f"http://127.0.0.1:{port}/v1",
        timeout=TIMEOUT,
    )
    return NodionClient(settings, retry=NO_RETRY)


@pytest.mark.parametrize("server", [0], indirect=True)
def test_headers_dribbled_on_a_new_connection_end_at_the_deadline(
    server: DribblingServer,
) -> None:
    with _client(server.port) as client, pytest.raises(NodionTimeoutError) as caught:
        client.list_registries()
    assert str(caught.value).endswith(f"no response within {TIMEOUT:g} s")
    # The client gave up while the headers were still coming, not once they had all come.
    assert server.headers_completed == 0


@pytest.mark.parametrize("server", [1], indirect=True)
def test_headers_dribbled_on_a_reused_connection_end_at_the_deadline(
    server: DribblingServer,
) -> None:
    with _client(server.port) as client:
        assert client.list_registries() == []
        with pytest.raises(NodionTimeoutError):
            client.list_registries()
    assert server.connections == 1  # the second request did reuse the first's connection
    assert server.headers_completed == 0


class _SlottedStream:
    """A network stream that takes no new attributes."""

    __slots__ = ()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        return None


def test_a_stream_that_cannot_be_bound_is_left_to_work_as_it_is() -> None:
    stream = _SlottedStream()
    bound_streams("connection.connect_tcp.complete", {"return_value": stream})
    assert stream.read(1) == b""


class _RecordingStream:
    """A network stream that records the timeouts it is given."""

    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.timeouts.append(timeout)
        return b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)

    def start_tls(
        self, ssl_context: object, server_hostname: str | None = None, timeout: float | None = None
    ) -> _RecordingStream:
        self.timeouts.append(timeout)
        return self


def test_reads_writes_and_the_tls_handshake_take_at_most_the_time_left() -> None:
    stream = _RecordingStream()
    bound_streams("connection.connect_tcp.complete", {"return_value": stream})
    with request_deadline(0.5):
        stream.read(1, timeout=5.0)
        stream.write(b"x", timeout=5.0)
        stream.start_tls(None, "registry.example", timeout=5.0)
    stream.read(1, timeout=5.0)  # outside any request's deadline: as given
    *bounded, unbounded = stream.timeouts
    assert all(t is not None and 0 < t <= 0.5 for t in bounded)
    assert len(bounded) == 3
    assert unbounded == 5.0
