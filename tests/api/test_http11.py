"""The direct HTTP/1.1 path (``provider.api._http11``): what it sends, what it accepts, what it
refuses, and when it reuses a connection; against real loopback servers, plain and TLS.

The parser's fine logic is also checked on every split of an answer into reads, with a
stand-in stream (the only place a real socket cannot choose where reads end).
"""

from __future__ import annotations

import gzip
import itertools
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider.api import HumanitecClient, TransportError, WebhookRequest
from provider.api import _http11 as http11
from provider.api._deadline import DeadlineBackend
from provider.emulator.receiver import ThrowawayCA
from tests.api.conftest import APP, TOKEN, ClientFactory
from tests.api.rawserver import RawServer, read_request

HOOK = b'{"id": "h", "url": "https://example.com", "triggers": []}'
LIMIT = 1000


def json_answer(body: bytes = HOOK, *, extra: bytes = b"", status: bytes = b"200 OK") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + extra
        + b"Content-Length: %d\r\n\r\n" % len(body) + body
    )  # fmt: skip


class Recording:
    """A raw server's handler that answers each request on a connection from ``answers``
    in turn (then hangs up), and records the requests."""

    def __init__(self, *answers: bytes, close_after: bool = False) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.close_after = close_after
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket, _index: int, stop: threading.Event) -> None:
        while not stop.is_set():
            if not select.select([conn], [], [], 0.05)[0]:
                continue  # an idle keep-alive connection: wait, but not past the test
            request = read_request(conn)
            if not request:
                return
            with self._lock:
                self.requests.append(request)
                if not self.answers:
                    return
                answer = self.answers.pop(0)
            conn.sendall(answer)
            if self.close_after:
                return


@pytest.fixture
def origin() -> Iterator[Callable[[str], http11.Origin]]:
    made: list[http11.Origin] = []
    backend = DeadlineBackend(threading.Event())

    def make(url: str) -> http11.Origin:
        made.append(http11.Origin(backend, httpx.URL(url), [(b"Accept", b"*/*")], None))
        return made[-1]

    with backend.budget(float("inf")):
        yield make
    for each in made:
        each.close()


def test_the_request_is_what_httpx_sent(make_client: ClientFactory) -> None:
    handler = Recording(json_answer(status=b"201 Created"))
    with RawServer(handler) as server:
        client = make_client(server.url + "/api/", token=TOKEN)
        assert client._sender._direct is not None
        client.create_webhook(APP, WebhookRequest(id="h", url="https://example.com"))
    head, _, body = handler.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    path = f"/api/orgs/test-org/apps/{APP}/webhooks"
    assert lines[0] == f"POST {path} HTTP/1.1".encode()
    httpx_would = client._http.build_request(
        "POST", server.url + path, content=body, headers={"Content-Type": "application/json"}
    )
    assert [tuple(line.split(b": ", 1)) for line in lines[1:]] == httpx_would.headers.raw
    assert f"Bearer {TOKEN}".encode() in dict(httpx_would.headers.raw).values()
    assert b'"id":"h"' in body


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (json_answer(), HOOK),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            b"hello world",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + json_answer(), HOOK),
        (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", b"ok"),  # bare line feeds, as h11
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", b""),
        (json_answer(gzip.compress(HOOK), extra=b"Content-Encoding: gzip\r\n"), HOOK),
        (json_answer(zlib.compress(HOOK), extra=b"Content-Encoding: deflate\r\n"), HOOK),
        (json_answer(HOOK, extra=b"Content-Encoding: br\r\n"), HOOK),  # unknown: as is
        (json_answer(HOOK, extra=b"Content-Length: %d\r\n" % len(HOOK)), HOOK),  # same twice
    ],
    ids=["length", "chunked", "informational", "bare-lf", "204", "gzip", "deflate", "br", "cl2"],
)
def test_answers_are_read_whatever_their_framing(
    answer: bytes, body: bytes, origin: Callable[[str], http11.Origin]
) -> None:
    handler = Recording(answer, answer)
    with RawServer(handler) as server:
        first = origin(server.url).exchange("GET", "x", {}, None, LIMIT)
        assert first.content == body
    assert first.status_code in (200, 204)


def test_the_answer_to_a_head_request_has_no_body(origin: Callable[[str], http11.Origin]) -> None:
    handler = Recording(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", json_answer())
    with RawServer(handler) as server:
        direct = origin(server.url)
        assert direct.exchange("HEAD", "x", {}, None, LIMIT).content == b""
        assert direct.exchange("GET", "x", {}, None, LIMIT).content == HOOK
        assert server.connections == 1


def test_an_answer_read_to_the_end_of_the_connection(
    origin: Callable[[str], http11.Origin],
) -> None:
    handler = Recording(b"HTTP/1.1 200 OK\r\n\r\n" + HOOK, json_answer(), close_after=True)
    with RawServer(handler) as server:
        direct = origin(server.url)
        assert direct.exchange("GET", "x", {}, None, LIMIT).content == HOOK
        assert direct.exchange("GET", "x", {}, None, LIMIT).content == HOOK
        assert server.connections == 2


@pytest.mark.parametrize(
    ("first", "connections"),
    [
        (json_answer(), 1),
        (json_answer(extra=b"Connection: close\r\n"), 2),
        (json_answer().replace(b"HTTP/1.1", b"HTTP/1.0", 1), 2),
        (json_answer() + b"HTTP/1.1 200 OK\r\n", 2),  # more than the answer: not trusted
    ],
    ids=["keep-alive", "close", "http-1.0", "extra-bytes"],
)
def test_a_connection_is_reused_only_when_it_may_be(
    first: bytes, connections: int, origin: Callable[[str], http11.Origin]
) -> None:
    handler = Recording(first, json_answer(), json_answer())
    with RawServer(handler) as server:
        direct = origin(server.url)
        for _ in range(2):
            assert direct.exchange("GET", "x", {}, None, LIMIT).content == HOOK
        assert server.connections == connections


def test_a_connection_the_server_closed_while_idle_is_not_used(
    origin: Callable[[str], http11.Origin],
) -> None:
    handler = Recording(json_answer(), json_answer(), close_after=True)
    with RawServer(handler) as server:
        direct = origin(server.url)
        assert direct.exchange("GET", "x", {}, None, LIMIT).content == HOOK
        idle = direct._idle[0].stream
        deadline = time.monotonic() + 5
        while not idle.get_extra_info("is_readable") and time.monotonic() < deadline:
            time.sleep(0.01)  # until the server's hang-up has arrived
        assert direct.exchange("GET", "x", {}, None, LIMIT).content == HOOK
        assert server.connections == 2


def test_an_idle_connection_expires(
    origin: Callable[[str], http11.Origin], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http11, "KEEPALIVE_EXPIRY", 0.0)
    handler = Recording(json_answer(), json_answer())
    with RawServer(handler) as server:
        direct = origin(server.url)
        for _ in range(2):
            direct.exchange("GET", "x", {}, None, LIMIT)
        assert server.connections == 2


SECRET = b"sk-live-abcdef"
CHUNK = b"100\r\n" + b"x" * 256 + b"\r\n"  # 5 of them: over LIMIT

REFUSED = {
    "status-line": (b"HTTP/1.1 2x0 OK\r\n\r\n", "illegal status line"),
    "status-99": (b"HTTP/1.1 099 Odd\r\n\r\n", "illegal status line"),
    "http-2": (b"HTTP/2.0 200 OK\r\n\r\n", "illegal status line"),
    "header-line": (b"HTTP/1.1 200 OK\r\nX " + SECRET + b"\r\n\r\n", "illegal header line"),
    "obs-fold": (b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", "illegal header line"),
    "bare-cr": (b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "illegal header line"),
    "nul": (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", "illegal header line"),
    "two-lengths": (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                    "invalid Content-Length"),
    "negative-length": (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                        "invalid Content-Length"),
    "te-gzip": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported"),
    "te-twice": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                 "unsupported"),
    "chunk-size": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                   "illegal chunk header"),
    "chunk-end": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
                  "chunk not followed"),
    "trailer": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + SECRET
                + b"\r\n\r\n", "illegal trailer line"),
    "switching": (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected 101"),
    "short-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", "peer closed"),
    "short-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc",
                    "peer closed"),
    "no-answer": (b"", "Server disconnected without sending a response."),
    "half-head": (b"HTTP/1.1 200 OK\r\nContent-", "peer closed connection in the response head"),
    "endless-head": (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 30000, "response head too large"),
}  # fmt: skip


@pytest.mark.parametrize(("answer", "reason"), REFUSED.values(), ids=list(REFUSED))
def test_malformed_answers_are_refused_without_quoting_them(
    answer: bytes, reason: str, origin: Callable[[str], http11.Origin]
) -> None:
    with (
        RawServer(Recording(answer, close_after=True)) as server,
        pytest.raises(httpx.RemoteProtocolError) as caught,
    ):
        origin(server.url).exchange("GET", "x", {}, None, LIMIT)
    assert reason in str(caught.value)
    assert SECRET.decode() not in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        json_answer(b"x" * (LIMIT + 1)),
        json_answer(b"", extra=b"Content-Length: 99999999999\r\n").replace(
            b"Content-Length: 0\r\n", b""
        ),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNK * 5,
        b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (LIMIT + 1),
        json_answer(gzip.compress(b"0" * 100_000), extra=b"Content-Encoding: gzip\r\n"),
    ],
    ids=["length", "announced", "chunked", "to-the-end", "gzip-bomb"],
)
def test_a_body_over_the_limit_is_refused(
    answer: bytes, origin: Callable[[str], http11.Origin]
) -> None:
    with (
        RawServer(Recording(answer, close_after=True)) as server,
        pytest.raises(http11.BodyTooLargeError),
    ):
        origin(server.url).exchange("GET", "x", {}, None, LIMIT)


def test_a_body_that_is_not_what_its_coding_says_is_a_decoding_error(
    origin: Callable[[str], http11.Origin],
) -> None:
    answer = json_answer(b"not gzip", extra=b"Content-Encoding: gzip\r\n")
    with (
        RawServer(Recording(answer)) as server,
        pytest.raises(httpx.DecodingError, match="not valid gzip"),
    ):
        origin(server.url).exchange("GET", "x", {}, None, LIMIT)


def test_an_invalid_header_is_refused_before_connecting(
    origin: Callable[[str], http11.Origin],
) -> None:
    handler = Recording(json_answer())
    with RawServer(handler) as server:
        direct = origin(server.url)
        with pytest.raises(httpx.LocalProtocolError) as caught:
            direct.exchange("GET", "x", {"X-Token": f"{TOKEN}\r\nEvil: 1"}, None, LIMIT)
        with pytest.raises(httpx.LocalProtocolError):
            direct.exchange("GET", "x y", {}, None, LIMIT)
        assert server.connections == 0
    assert TOKEN not in str(caught.value)
    with pytest.raises(httpx.LocalProtocolError):
        http11.Origin(
            DeadlineBackend(threading.Event()),
            httpx.URL("http://127.0.0.1:1/"),
            [(b"Authorization", b"Bearer x\n")],
            None,
        )


def test_only_the_clients_own_direct_transport_is_replaced(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert make_client("http://127.0.0.1:1/")._sender._direct is not None
    assert make_client("https://api.example.com/")._sender._direct is not None
    mine = httpx.HTTPTransport()
    assert make_client("http://127.0.0.1:1/", transport=mine)._sender._direct is None
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert make_client("https://api.example.com/")._sender._direct is None
    assert make_client("https://127.0.0.1:1/")._sender._direct is not None  # loopback: no proxy


def tls_answering(context: ssl.SSLContext, answer: bytes) -> Callable[..., None]:
    def handle(conn: socket.socket, index: int, stop: threading.Event) -> None:
        conn.settimeout(5)
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate
        with tls:
            Recording(answer, answer)(tls, index, stop)

    return handle


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    directory = tmp_path_factory.mktemp("tls")
    ca = ThrowawayCA("http11 test CA")
    cert, key = ca.issue(("127.0.0.1",))
    ca.write(directory / "ca.pem")
    (directory / "server.pem").write_bytes(cert)
    (directory / "server.key").write_bytes(key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    return directory / "ca.pem", context


def test_https_with_a_verified_certificate_reuses_its_connection(
    tls_files: tuple[Path, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
    make_client: ClientFactory,
) -> None:
    ca, context = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    with RawServer(tls_answering(context, json_answer())) as server:
        client = make_client(f"https://127.0.0.1:{server.port}/", verify_tls=True)
        assert client._sender._direct is not None
        assert client.get_webhook(APP, "h").id == "h"
        assert client.get_webhook(APP, "h").id == "h"
        assert server.connections == 1


def test_https_refuses_a_certificate_it_cannot_verify(
    tls_files: tuple[Path, ssl.SSLContext], make_client: ClientFactory, sleeps: list[float]
) -> None:
    _, context = tls_files
    with RawServer(tls_answering(context, json_answer())) as server:
        client: HumanitecClient = make_client(
            f"https://127.0.0.1:{server.port}/", verify_tls=True, max_retries=0
        )
        with pytest.raises(TransportError, match="TLS certificate verification failed") as c:
            client.get_webhook(APP, "h")
    assert c.value.request_sent is False


class Pieces:
    """A stand-in stream that returns ``data`` in the given pieces, then the end."""

    def __init__(self, data: bytes, cuts: list[int]) -> None:
        points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
        self.pieces = [data[a:b] for a, b in itertools.pairwise(points)]

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


VALID = [
    json_answer(),
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n1;x\r\nd\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
]


@given(st.sampled_from(VALID), st.lists(st.integers(min_value=0), max_size=30))
def test_where_reads_end_changes_nothing(answer: bytes, cuts: list[int]) -> None:
    whole = http11._Connection(Pieces(answer, []))  # type: ignore[arg-type]
    split = http11._Connection(Pieces(answer, cuts))  # type: ignore[arg-type]
    expected = http11._read_answer(whole, "GET", LIMIT)
    assert http11._read_answer(split, "GET", LIMIT) == expected
    assert expected[0].content in (HOOK, b"abcd", b"abc")
