"""The HTTP/2 state machine without sockets: frames in, calls out, answers as frames."""

from __future__ import annotations

import struct

import pytest
from hpack import Decoder
from hypothesis import given
from hypothesis import strategies as st

from provider.plugin._h2 import Call, Connection, PeerProtocolError, Status
from tests.h2client import (
    ACK,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PADDED,
    PING,
    PRIORITY,
    PRIORITY_FLAG,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    Client,
    Frame,
    frame,
    grpc_message,
    parse,
)

PATH = "/tfplugin6.Provider/PlanResourceChange"


def connect(
    max_message_bytes: int = 1 << 20, **settings: int
) -> tuple[Connection, Client, list[Frame]]:
    conn = Connection(max_message_bytes=max_message_bytes)
    client = Client()
    assert conn.receive(client.preface(**settings)) == []
    return conn, client, parse(conn.data_to_send())


def answer_frames(conn: Connection) -> list[Frame]:
    return [f for f in parse(conn.data_to_send()) if f.kind in (HEADERS, DATA)]


def test_opening_settings_raise_windows_and_acknowledge_the_clients() -> None:
    _, _, frames = connect()
    kinds = [(f.kind, f.flags) for f in frames]
    assert kinds == [(SETTINGS, 0), (WINDOW_UPDATE, 0), (SETTINGS, ACK)]
    settings = dict(struct.iter_unpack(">HI", frames[0].payload))
    assert settings[0x2] == 0  # no push
    assert settings[0x4] == 2**31 - 1  # the client never waits for stream window
    assert int.from_bytes(frames[1].payload) == 2**31 - 1 - 65_535


def test_a_unary_call_and_its_answer() -> None:
    conn, client, _ = connect()

    calls = conn.receive(client.call(1, PATH, b"request"))

    assert calls == [Call(1, PATH, b"request")]
    conn.respond(1, b"answer")
    headers, data, trailers = answer_frames(conn)
    assert (headers.kind, headers.flags, headers.stream_id) == (HEADERS, END_HEADERS, 1)
    assert client.headers(headers) == {":status": "200", "content-type": "application/grpc"}
    assert (data.kind, data.flags, data.payload) == (DATA, 0, grpc_message(b"answer"))
    assert trailers.flags == END_HEADERS | END_STREAM
    assert client.headers(trailers) == {"grpc-status": "0"}
    assert conn.active_streams == 0


def test_the_clients_dynamic_table_is_followed_across_calls() -> None:
    conn, client, _ = connect()
    first = conn.receive(client.call(1, PATH, b"a"))
    second = conn.receive(client.call(3, "/tfplugin6.Provider/ReadResource", b"b"))  # indexed
    third = conn.receive(client.call(5, PATH, b"c"))
    assert [c.path for c in first + second + third] == [
        PATH,
        "/tfplugin6.Provider/ReadResource",
        PATH,
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([PATH, "/tfplugin6.Provider/ReadResource", "/plugin.GRPCStdio/Stream"]),
            st.sampled_from(["application/grpc", "application/grpc+proto", "text/plain"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_header_blocks_decode_alike_whether_fully_indexed_or_not(
    requests: list[tuple[str, str]],
) -> None:
    # grpc-go's blocks are all one-byte indexes once its table is warm, which the server
    # looks up directly; new paths insert entries and shift every dynamic index.
    conn, client, _ = connect()
    indexed = 0
    for number, (path, content_type) in enumerate(requests):
        stream_id = 2 * number + 1
        block = client.headers_block(path, content_type)
        indexed += all(byte > 0x80 for byte in block)
        (call,) = conn.receive(
            frame(HEADERS, END_HEADERS, stream_id, block)
            + frame(DATA, END_STREAM, stream_id, grpc_message(b"m"))
        )
        assert call.path == path
        assert (call.error is None) == content_type.startswith("application/grpc")
    assert indexed >= len(requests) - len({r for r in requests})  # every repeat is indexed


def test_a_remembered_header_block_means_what_the_table_says_once_it_changed() -> None:
    # The server remembers what a fully indexed block decoded to; a new entry shifts every
    # dynamic index, so the same bytes then name other fields. A decoder that sees every
    # block says what they name.
    conn, client, _ = connect()
    mirror = Decoder()

    def send(stream_id: int, block: bytes) -> Call:
        mirror.decode(block)
        (call,) = conn.receive(
            frame(HEADERS, END_HEADERS, stream_id, block)
            + frame(DATA, END_STREAM, stream_id, grpc_message(b"m"))
        )
        return call

    send(1, client.headers_block(PATH))
    indexed = client.headers_block(PATH)
    assert all(byte > 0x80 for byte in indexed)
    assert send(3, indexed).path == PATH
    assert send(5, indexed).path == PATH  # remembered
    send(7, client.headers_block("/tfplugin6.Provider/ReadResource"))  # inserts an entry
    shifted = {str(k): str(v) for k, v in mirror.decode(indexed)}[":path"]
    assert shifted != PATH
    call = send(9, indexed)
    assert call.path == shifted


def test_indexed_fields_over_the_header_list_limit_end_the_connection() -> None:
    conn, client, _ = connect()
    big = bytes(client.encoder.encode([("x-big", "v" * 4000)]))  # inserted at index 62
    conn.receive(frame(HEADERS, END_HEADERS, 1, big))  # not gRPC: an error call, no matter
    with pytest.raises(PeerProtocolError, match="too large"):
        conn.receive(frame(HEADERS, END_HEADERS, 3, b"\xbe" * 300))  # 300 x 4 KB
    assert parse(conn.data_to_send())[-1].kind == GOAWAY


def test_an_indexed_field_beyond_the_table_ends_the_connection() -> None:
    conn, _, _ = connect()
    with pytest.raises(PeerProtocolError, match="undecodable"):
        conn.receive(frame(HEADERS, END_HEADERS, 1, b"\x83\x87\xfe"))
    assert parse(conn.data_to_send())[-1].kind == GOAWAY


def test_headers_split_over_continuation_with_padding_and_priority() -> None:
    conn, client, _ = connect()
    block = client.headers_block(PATH)
    pad = 7
    first = bytes([pad]) + b"\0\0\0\0\x10" + block[:5] + b"\0" * pad
    data = (
        frame(HEADERS, PADDED | PRIORITY_FLAG, 1, first)
        + frame(CONTINUATION, 0, 1, block[5:9])
        + frame(CONTINUATION, END_HEADERS, 1, block[9:])
        + frame(DATA, PADDED | END_STREAM, 1, b"\x02" + grpc_message(b"x") + b"\0\0")
    )
    assert conn.receive(data) == [Call(1, PATH, b"x")]


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=60))
def test_any_chunking_of_the_bytes_gives_the_same_calls(cuts: list[int]) -> None:
    conn = Connection(max_message_bytes=1 << 20)
    client = Client()
    data = client.preface() + client.call(1, PATH, b"one") + client.call(3, PATH, b"two" * 50)
    calls, offset = [], 0
    for cut in [*cuts, len(data)]:  # the last takes what is left, if anything
        calls += conn.receive(data[offset : offset + cut])
        offset += cut
    assert calls == [Call(1, PATH, b"one"), Call(3, PATH, b"two" * 50)]


def test_answers_wait_for_the_clients_stream_window() -> None:
    conn, client, _ = connect(initial_window_size=10)
    conn.receive(client.call(1, PATH, b""))

    conn.respond(1, b"m" * 100)  # 105 bytes framed

    sent = answer_frames(conn)
    assert [f.kind for f in sent] == [HEADERS, DATA]
    assert len(sent[1].payload) == 10
    conn.receive(frame(WINDOW_UPDATE, 0, 1, (50).to_bytes(4)))
    assert [len(f.payload) for f in answer_frames(conn)] == [50]
    conn.receive(frame(WINDOW_UPDATE, 0, 1, (1000).to_bytes(4)))
    rest = answer_frames(conn)
    assert [f.kind for f in rest] == [DATA, HEADERS]
    assert sent[1].payload + b"m" * 50 + rest[0].payload == grpc_message(b"m" * 100)
    assert rest[1].flags & END_STREAM


def test_answers_wait_for_the_connection_window_and_a_larger_initial_window() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, PATH, b""))
    conn.respond(1, b"z" * 70_000)  # over the default connection window of 65,535
    first = answer_frames(conn)
    assert sum(len(f.payload) for f in first if f.kind == DATA) == 65_535
    assert all(len(f.payload) <= 16_384 for f in first)  # the default frame size
    conn.receive(frame(WINDOW_UPDATE, 0, 0, (10).to_bytes(4)))
    assert sum(len(f.payload) for f in answer_frames(conn)) == 0  # the stream's window is shut
    conn.receive(frame(SETTINGS, 0, 0, struct.pack(">HI", 0x4, 65_535 + 100_000)))
    rest = answer_frames(conn)
    assert sum(len(f.payload) for f in rest if f.kind == DATA) == 10
    conn.receive(frame(WINDOW_UPDATE, 0, 0, (100_000).to_bytes(4)))
    last = answer_frames(conn)
    assert sum(len(f.payload) for f in first + rest + last if f.kind == DATA) == 70_005
    assert last[-1].flags & END_STREAM


def test_ping_is_answered_with_its_payload() -> None:
    conn, _, _ = connect()
    conn.receive(frame(PING, 0, 0, b"12345678"))
    assert parse(conn.data_to_send()) == [Frame(PING, ACK, 0, b"12345678")]
    conn.receive(frame(PING, ACK, 0, b"87654321"))
    assert conn.data_to_send() == b""


def test_a_reset_stream_gets_no_answer() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, PATH, b""))
    conn.receive(frame(RST_STREAM, 0, 1, (8).to_bytes(4)))
    conn.respond(1, b"late")
    assert conn.data_to_send() == b""
    assert conn.active_streams == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (grpc_message(b"x", compressed=True), Status.UNIMPLEMENTED),
        (grpc_message(b"x") + grpc_message(b"y"), Status.INTERNAL),
        (b"\0\0", Status.INTERNAL),
        (grpc_message(b"x" * 2_000), Status.RESOURCE_EXHAUSTED),
    ],
    ids=["compressed", "two-messages", "truncated", "too-large"],
)
def test_bad_messages_become_calls_with_an_error(body: bytes, status: int) -> None:
    conn, client, _ = connect(max_message_bytes=1_000)
    headers = frame(HEADERS, END_HEADERS, 1, client.headers_block(PATH))
    (call,) = conn.receive(headers + frame(DATA, END_STREAM, 1, body))
    assert call.error is not None
    assert call.error[0] == status


def test_an_error_is_a_trailers_only_answer_with_an_encoded_message() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, "/nope/Nothing", b""))

    conn.fail(1, Status.UNIMPLEMENTED, "unknown method /nope/Nothing: 100% ünicode")

    (only,) = answer_frames(conn)
    assert only.flags == END_HEADERS | END_STREAM
    fields = client.headers(only)
    assert fields[":status"] == "200"
    assert fields["grpc-status"] == "12"
    assert fields["grpc-message"] == "unknown method /nope/Nothing: 100%25 %C3%BCnicode"


def test_a_request_that_is_not_grpc_is_refused_with_an_error() -> None:
    conn, client, _ = connect()
    block = client.headers_block(PATH, **{"grpc-encoding": "gzip"})
    (call,) = conn.receive(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
    assert call.error is not None
    assert call.error[0] == Status.UNIMPLEMENTED


OPENED = Client().preface()
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, COMPRESSION_ERROR = 0x1, 0x3, 0x6, 0x9


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", PROTOCOL_ERROR, id="http1"),
        pytest.param(OPENED + frame(DATA, 0, 0, b"x"), PROTOCOL_ERROR, id="data-on-stream-0"),
        pytest.param(
            OPENED + frame(HEADERS, END_HEADERS, 2, b""), PROTOCOL_ERROR, id="even-stream"
        ),
        pytest.param(
            OPENED + frame(HEADERS, END_HEADERS, 3, b"") + frame(HEADERS, END_HEADERS, 1, b""),
            PROTOCOL_ERROR,
            id="stream-id-going-back",
        ),
        pytest.param(
            OPENED + frame(DATA, 0, 1, b"\0" * 16_385), FRAME_SIZE_ERROR, id="oversized-frame"
        ),
        pytest.param(
            OPENED + frame(HEADERS, 0, 1, b"") + frame(PING, 0, 0, b"\0" * 8),
            PROTOCOL_ERROR,
            id="interrupted-headers",
        ),
        pytest.param(
            OPENED + frame(CONTINUATION, END_HEADERS, 1, b""),
            PROTOCOL_ERROR,
            id="lone-continuation",
        ),
        pytest.param(
            OPENED + frame(HEADERS, END_HEADERS | PADDED, 1, b"\x05"),
            PROTOCOL_ERROR,
            id="headers-padding-past-the-end",
        ),
        pytest.param(
            OPENED + frame(DATA, PADDED, 1, b"\x01"), PROTOCOL_ERROR, id="data-padding-past-the-end"
        ),
        pytest.param(
            OPENED + frame(HEADERS, END_HEADERS, 1, b"\xff\xff\xff\xff"),
            COMPRESSION_ERROR,
            id="bad-hpack",
        ),
        pytest.param(
            OPENED + frame(PUSH_PROMISE, END_HEADERS, 1, b"\0\0\0\2"),
            PROTOCOL_ERROR,
            id="push-from-a-client",
        ),
        pytest.param(OPENED + frame(PING, 0, 0, b"short"), PROTOCOL_ERROR, id="short-ping"),
        pytest.param(
            OPENED + frame(RST_STREAM, 0, 0, b"\0\0\0\0"), PROTOCOL_ERROR, id="reset-stream-0"
        ),
        pytest.param(
            OPENED + frame(SETTINGS, 0, 0, b"\0\x04\0"), FRAME_SIZE_ERROR, id="partial-setting"
        ),
        pytest.param(
            OPENED + frame(SETTINGS, 0, 0, struct.pack(">HI", 0x5, 100)),
            PROTOCOL_ERROR,
            id="max-frame-size-below-the-minimum",
        ),
        pytest.param(
            OPENED + frame(SETTINGS, 0, 0, struct.pack(">HI", 0x4, 2**31)),
            FLOW_CONTROL_ERROR,
            id="initial-window-too-large",
        ),
        pytest.param(
            OPENED + frame(WINDOW_UPDATE, 0, 0, (0).to_bytes(4)),
            FLOW_CONTROL_ERROR,
            id="connection-window-update-of-0",
        ),
        pytest.param(
            OPENED + frame(WINDOW_UPDATE, 0, 0, (2**31 - 1).to_bytes(4)),
            FLOW_CONTROL_ERROR,
            id="window-overflow",
        ),
    ],
)
def test_protocol_violations_end_the_connection_with_goaway(data: bytes, code: int) -> None:
    conn = Connection(max_message_bytes=1 << 20)
    with pytest.raises(PeerProtocolError):
        conn.receive(data)
    goaway = parse(conn.data_to_send())[-1]
    assert goaway.kind == GOAWAY
    assert goaway.payload[4:] == code.to_bytes(4)
    assert conn.closed


def test_unknown_frame_types_and_priority_are_ignored() -> None:
    conn, client, _ = connect()
    calls = conn.receive(frame(0x42, 0, 0, b"extension") + frame(PRIORITY, 0, 1, b"\0" * 5))
    assert calls == []
    assert conn.receive(client.call(1, PATH, b"ok")) == [Call(1, PATH, b"ok")]


def test_a_streamed_answer_sends_each_message_then_trailers() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, "/tfplugin6.Provider/ListResource", b""))
    assert conn.start_response(1)
    for n in range(3):
        conn.send_message(1, b"event %d" % n)
    conn.finish(1, Status.OK)
    frames = answer_frames(conn)
    assert [f.kind for f in frames] == [HEADERS, DATA, DATA, DATA, HEADERS]
    assert frames[2].payload == grpc_message(b"event 1")
    assert client.headers(frames[0])[":status"] == "200"
    assert client.headers(frames[-1]) == {"grpc-status": "0"}


def test_goaway_from_the_client_lets_running_calls_finish() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, PATH, b""))
    conn.receive(frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)))
    assert conn.closed
    conn.respond(1, b"still answered")
    assert [f.kind for f in answer_frames(conn)] == [HEADERS, DATA, HEADERS]


def test_more_data_after_the_request_ended_resets_the_stream_and_runs_nothing_twice() -> None:
    conn, client, _ = connect()
    (call,) = conn.receive(client.call(1, PATH, b"once"))

    again = conn.receive(frame(DATA, END_STREAM, 1, grpc_message(b"twice")))

    assert again == []
    (reset,) = parse(conn.data_to_send())
    assert (reset.kind, reset.stream_id, reset.payload) == (RST_STREAM, 1, (5).to_bytes(4))
    conn.respond(call.stream_id, b"late")  # the stream is gone: nothing is sent
    assert conn.data_to_send() == b""


@given(st.binary(max_size=300), st.lists(st.integers(0, 9), max_size=6), st.binary(max_size=60))
def test_any_bytes_give_calls_or_a_protocol_error_and_nothing_else(
    noise: bytes, kinds: list[int], payload: bytes
) -> None:
    conn = Connection(max_message_bytes=1 << 20)
    client = Client()
    frames = b"".join(frame(k, payload[0] if payload else 0, 1, payload) for k in kinds)
    for data in (client.preface(), client.call(1, PATH, b"ok"), frames, noise):
        try:
            conn.receive(data)
        except PeerProtocolError:
            assert parse(conn.data_to_send())[-1].kind == GOAWAY
            return
        parse(conn.data_to_send())  # whole frames only


@pytest.mark.parametrize(
    ("settings", "sizes", "flags"),
    [
        ({}, [16_384, 16_384], [END_STREAM, 0, END_HEADERS]),  # SETTINGS_MAX_FRAME_SIZE's default
        ({"max_frame_size": 20_000}, [20_000], [END_STREAM, END_HEADERS]),
    ],
    ids=["default", "client-set"],
)
def test_a_header_block_over_the_clients_frame_size_continues_in_continuation_frames(
    settings: dict[str, int], sizes: list[int], flags: list[int]
) -> None:
    conn, client, _ = connect(**settings)
    conn.receive(client.call(1, PATH, b""))

    conn.fail(1, Status.UNKNOWN, "ü" * 6_000)  # percent-encoded: 36,000 bytes

    frames = parse(conn.data_to_send())
    assert [len(f.payload) for f in frames[:-1]] == sizes  # full frames, then the rest
    assert len(frames[-1].payload) <= sizes[0]
    assert [f.kind for f in frames] == [HEADERS] + [CONTINUATION] * len(sizes)
    assert [f.flags for f in frames] == flags
    block = Frame(HEADERS, 0, 1, b"".join(f.payload for f in frames))
    assert client.headers(block)["grpc-message"] == "%C3%BC" * 6_000


@pytest.mark.parametrize(
    ("increment", "code"), [(0, 0x1), (2**31 - 1, 0x3)], ids=["zero", "overflow"]
)
def test_a_bad_stream_window_update_resets_only_that_stream(increment: int, code: int) -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, PATH, b"") + client.call(3, PATH, b""))

    conn.receive(frame(WINDOW_UPDATE, 0, 1, increment.to_bytes(4)))  # RFC 9113 6.9, 6.9.1

    (reset,) = parse(conn.data_to_send())
    assert (reset.kind, reset.stream_id, reset.payload) == (RST_STREAM, 1, code.to_bytes(4))
    conn.respond(1, b"late")
    conn.respond(3, b"answered")
    assert {f.stream_id for f in answer_frames(conn)} == {3}


def test_an_initial_window_that_overflows_a_streams_window_is_a_connection_error() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, PATH, b""))
    conn.receive(frame(WINDOW_UPDATE, 0, 1, (2**31 - 1 - 65_535).to_bytes(4)))

    with pytest.raises(PeerProtocolError):  # RFC 9113 6.9.2
        conn.receive(frame(SETTINGS, 0, 0, struct.pack(">HI", 0x4, 65_536)))
    assert parse(conn.data_to_send())[-1].kind == GOAWAY


def test_a_failure_after_the_response_began_ends_it_with_plain_trailers() -> None:
    conn, client, _ = connect()
    conn.receive(client.call(1, "/tfplugin6.Provider/ListResource", b""))
    conn.send_message(1, b"first")  # starts the response by itself

    conn.fail(1, Status.UNKNOWN, "broke midway")

    frames = answer_frames(conn)
    assert [f.kind for f in frames] == [HEADERS, DATA, HEADERS]
    assert client.headers(frames[0])[":status"] == "200"
    assert client.headers(frames[2]) == {"grpc-status": "2", "grpc-message": "broke midway"}
