"""gRPC over HTTP/2, server side, without I/O: the part of RFC 9113 a gRPC server needs.

:class:`Connection` takes the bytes a client sent (``receive``) and returns the calls they
completed; the server answers through ``respond``, ``send_message`` and ``finish``, and sends
what ``data_to_send`` returns. No sockets, threads or clocks here, so every frame sequence can
be tested directly, and the server decides how to wait.

What is covered: the connection preface and SETTINGS, HEADERS with CONTINUATION, padding and
priority, DATA with flow control both ways, PING, RST_STREAM, WINDOW_UPDATE, GOAWAY, and gRPC's
length-prefixed messages (uncompressed: we never advertise an encoding, so a client must not
compress). Server push and priorities are not used by gRPC; unknown frame types are ignored as
the RFC requires. Header blocks are decoded by ``hpack`` (a client's dynamic table and Huffman
strings); responses use only static-table and literal fields, so we keep no encoder state.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hpack import Decoder, HPACKError

__all__ = ["Call", "Connection", "PeerProtocolError", "Status"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types and flags (RFC 9113 section 6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY = range(8)
WINDOW_UPDATE, CONTINUATION = 8, 9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20

# Settings identifiers.
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS = 0x1, 0x2, 0x3
INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE = 0x4, 0x5

# Error codes.
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR = 0x0, 0x1, 0x3, 0x6
STREAM_CLOSED, COMPRESSION_ERROR = 0x5, 0x9

_HEADER = struct.Struct(">HBBBI")  # 24-bit length as 16 + 8 bits, type, flags, stream id
_MAX_WINDOW = 2**31 - 1
_DEFAULT_WINDOW = 65_535
_DEFAULT_FRAME = 16_384
_MAX_HEADER_BLOCK = 1 << 20  # a gRPC request's headers are a few hundred bytes
_STREAM_LIMIT = 256  # concurrent calls; Terraform's -parallelism defaults to 10
_INDEXED_BLOCKS = 64  # decoded header blocks kept: grpc-go sends one per method


class Status:
    """The gRPC status codes we send."""

    OK = 0
    UNKNOWN = 2
    RESOURCE_EXHAUSTED = 8
    UNIMPLEMENTED = 12
    INTERNAL = 13


class PeerProtocolError(Exception):
    """The peer broke the protocol: send GOAWAY with ``code`` and close."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Call:
    """A complete request: its stream, method path (``/package.Service/Method``) and message,
    or an ``error`` (status, detail) to answer with instead of dispatching it."""

    stream_id: int
    path: str
    message: bytes
    error: tuple[int, str] | None = None


@dataclass
class _Stream:
    id: int
    send_window: int
    path: str = ""
    body: bytearray = field(default_factory=bytearray)
    outbound: bytearray = field(default_factory=bytearray)  # DATA waiting for window
    end_after_outbound: bytes | None = None  # trailers to send once ``outbound`` drains
    error: tuple[int, str] | None = None
    complete: bool = False  # the client ended its side: any more from it is an error
    responding: bool = False  # our response headers are out


class Connection:
    """One HTTP/2 connection's state, server side."""

    def __init__(self, *, max_message_bytes: int) -> None:
        self._max_message = max_message_bytes
        self._decoder = Decoder()
        self._decoder.max_header_list_size = _MAX_HEADER_BLOCK
        self._indexed: dict[bytes, dict[str, str]] = {}  # fully indexed blocks, decoded
        self._inbound = bytearray()
        self._outbound = bytearray()
        self._preface_seen = False
        self._streams: dict[int, _Stream] = {}
        self._last_stream = 0
        self._peer_window = _DEFAULT_WINDOW  # what we may send on the connection
        self._peer_initial = _DEFAULT_WINDOW  # initial window of the client's new streams
        self._peer_frame = _DEFAULT_FRAME
        self._received_unacked = 0  # DATA bytes received since we last granted them back
        self._continuing: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self.closed = False
        # Our SETTINGS: no push, bounded streams, and receive windows so large that the
        # client never waits for us; the connection window is raised the same way.
        settings = struct.pack(
            ">HIHIHI",
            *(
                ENABLE_PUSH,
                0,
                MAX_CONCURRENT_STREAMS,
                _STREAM_LIMIT,
                INITIAL_WINDOW_SIZE,
                _MAX_WINDOW,
            ),
        )
        self._frame(SETTINGS, 0, 0, settings)
        self._frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", _MAX_WINDOW - _DEFAULT_WINDOW))

    # -- input ------------------------------------------------------------------------------

    def receive(self, data: bytes | bytearray | memoryview) -> list[Call]:
        """Take bytes from the client; return the calls they completed.

        Raises :class:`PeerProtocolError` when the client broke the protocol; a GOAWAY is then
        waiting in ``data_to_send``.
        """
        self._inbound += data
        calls: list[Call] = []
        try:
            if not self._preface_seen and not self._read_preface():
                return calls
            buffer = self._inbound
            offset = 0
            while len(buffer) - offset >= 9:
                high, low, kind, flags, stream_id = _HEADER.unpack_from(buffer, offset)
                length = high << 8 | low
                if length > _DEFAULT_FRAME:  # we never raise SETTINGS_MAX_FRAME_SIZE
                    raise PeerProtocolError(FRAME_SIZE_ERROR, f"frame of {length} bytes")
                end = offset + 9 + length
                if len(buffer) < end:
                    break
                payload = bytes(buffer[offset + 9 : end])
                offset = end
                self._on_frame(kind, flags, stream_id & _MAX_WINDOW, payload, calls)
            del buffer[:offset]
        except PeerProtocolError as exc:
            self.goaway(exc.code)
            raise
        self._grant_window()
        return calls

    def _read_preface(self) -> bool:
        got = bytes(self._inbound[: len(PREFACE)])
        if not PREFACE.startswith(got):
            raise PeerProtocolError(PROTOCOL_ERROR, "not an HTTP/2 client preface")
        if len(got) < len(PREFACE):
            return False
        del self._inbound[: len(PREFACE)]
        self._preface_seen = True
        return True

    def _on_frame(
        self, kind: int, flags: int, stream_id: int, payload: bytes, calls: list[Call]
    ) -> None:
        if self._continuing is not None and kind != CONTINUATION:
            raise PeerProtocolError(PROTOCOL_ERROR, "header block interrupted")
        if kind == DATA:
            self._on_data(flags, stream_id, payload, calls)
        elif kind == HEADERS:
            self._on_headers(flags, stream_id, payload, calls)
        elif kind == CONTINUATION:
            self._on_continuation(flags, stream_id, payload, calls)
        elif kind == SETTINGS:
            self._on_settings(flags, stream_id, payload)
        elif kind == PING:
            if stream_id or len(payload) != 8:
                raise PeerProtocolError(PROTOCOL_ERROR, "malformed PING")
            if not flags & ACK:
                self._frame(PING, ACK, 0, payload)
        elif kind == WINDOW_UPDATE:
            self._on_window_update(stream_id, payload)
        elif kind == RST_STREAM:
            if not stream_id or len(payload) != 4:
                raise PeerProtocolError(PROTOCOL_ERROR, "malformed RST_STREAM")
            self._streams.pop(stream_id, None)  # the client gave up: drop what we owe it
        elif kind == GOAWAY:
            self.closed = True  # no new calls; answers to running ones still go out
        elif kind == PUSH_PROMISE:
            raise PeerProtocolError(PROTOCOL_ERROR, "a client must not push")
        # PRIORITY and unknown types are ignored (RFC 9113 sections 5.5, 6.3).

    def _on_headers(self, flags: int, stream_id: int, payload: bytes, calls: list[Call]) -> None:
        if stream_id == 0 or stream_id % 2 == 0:
            raise PeerProtocolError(PROTOCOL_ERROR, f"HEADERS on stream {stream_id}")
        start, end = 0, len(payload)
        if flags & PADDED:
            if not payload:
                raise PeerProtocolError(PROTOCOL_ERROR, "padded HEADERS without a pad length")
            start, end = 1, end - payload[0]
        if flags & PRIORITY_FLAG:
            start += 5
        if start > end:
            raise PeerProtocolError(PROTOCOL_ERROR, "HEADERS padding exceeds the frame")
        self._continuing = (stream_id, flags, bytearray(payload[start:end]))
        if flags & END_HEADERS:
            self._end_header_block(calls)

    def _on_continuation(
        self, flags: int, stream_id: int, payload: bytes, calls: list[Call]
    ) -> None:
        if self._continuing is None or self._continuing[0] != stream_id:
            raise PeerProtocolError(PROTOCOL_ERROR, "CONTINUATION without its HEADERS")
        block = self._continuing[2]
        block += payload
        if len(block) > _MAX_HEADER_BLOCK:
            raise PeerProtocolError(PROTOCOL_ERROR, "header block too large")
        if flags & END_HEADERS:
            self._end_header_block(calls)

    def _end_header_block(self, calls: list[Call]) -> None:
        assert self._continuing is not None
        stream_id, flags, block = self._continuing
        self._continuing = None
        fields = self._decode_fields(block)
        stream = self._streams.get(stream_id)
        if stream is not None:  # trailers from the client: gRPC sends none, ignore them
            if stream.complete:
                self._reset(stream, STREAM_CLOSED)
            elif flags & END_STREAM:
                self._complete(stream, calls)
            return
        if stream_id <= self._last_stream:
            raise PeerProtocolError(PROTOCOL_ERROR, f"stream {stream_id} reused")
        self._last_stream = stream_id
        stream = _Stream(stream_id, self._peer_initial)
        self._streams[stream_id] = stream
        stream.path = fields.get(":path", "")
        if fields.get(":method") != "POST" or not stream.path.startswith("/"):
            stream.error = (Status.INTERNAL, "not a gRPC request")
        elif not fields.get("content-type", "").startswith("application/grpc"):
            stream.error = (Status.INTERNAL, "content-type is not application/grpc")
        elif fields.get("grpc-encoding", "identity") != "identity":
            stream.error = (Status.UNIMPLEMENTED, "compressed requests are not supported")
        elif len(self._streams) > _STREAM_LIMIT:
            stream.error = (Status.RESOURCE_EXHAUSTED, "too many concurrent calls")
        if flags & END_STREAM:
            self._complete(stream, calls)

    def _decode_fields(self, block: bytearray) -> dict[str, str]:
        """The header block's fields (not to be changed: they may be shared with the next
        call's); always decoded, as it may update the dynamic table."""
        key = bytes(block)
        fields = self._indexed.get(key)
        if fields is not None:
            return fields
        try:
            if block and all(byte > 0x80 and byte != 0xFF for byte in block):
                # Only one-byte indexed fields, as grpc-go sends once its table is warm
                # (``83 87 be c7 ...``): they change no table, so look them up directly;
                # hpack's general decoder costs several times more per block. Until the
                # table changes, the same bytes mean the same fields: remember them (a
                # call through ``receive`` and ``respond`` costs 17.6 µs here without, 11.0
                # with: an ad hoc loop).
                entry = self._decoder.header_table.get_by_index
                pairs = [entry(byte & 0x7F) for byte in block]
                if sum(32 + len(n) + len(v) for n, v in pairs) > _MAX_HEADER_BLOCK:
                    raise PeerProtocolError(COMPRESSION_ERROR, "header list too large")
                fields = {name.decode(): value.decode() for name, value in pairs}
                if len(self._indexed) >= _INDEXED_BLOCKS:
                    self._indexed.clear()
                self._indexed[key] = fields
                return fields
            self._indexed.clear()  # the general decoder may change the table
            headers = self._decoder.decode(key)
        except (HPACKError, UnicodeDecodeError) as exc:
            raise PeerProtocolError(COMPRESSION_ERROR, f"undecodable headers: {exc}") from None
        return {str(name): str(value) for name, value in headers}

    def _on_data(self, flags: int, stream_id: int, payload: bytes, calls: list[Call]) -> None:
        if stream_id == 0:
            raise PeerProtocolError(PROTOCOL_ERROR, "DATA on stream 0")
        self._received_unacked += len(payload)
        start, end = 0, len(payload)
        if flags & PADDED:
            if not payload or payload[0] >= len(payload):
                raise PeerProtocolError(PROTOCOL_ERROR, "DATA padding exceeds the frame")
            start, end = 1, end - payload[0]
        stream = self._streams.get(stream_id)
        if stream is None:
            return  # reset or answered already: the window was still consumed, see above
        if stream.complete:  # a second request on one stream must not run a call twice
            self._reset(stream, STREAM_CLOSED)
            return
        if stream.error is None:
            if len(stream.body) + end - start > self._max_message + 5:
                stream.error = (Status.RESOURCE_EXHAUSTED, "request message too large")
                stream.body.clear()
            else:
                stream.body += payload[start:end]
        if flags & END_STREAM:
            self._complete(stream, calls)

    def _complete(self, stream: _Stream, calls: list[Call]) -> None:
        """The client finished sending: unwrap the gRPC message, or say what is wrong with it."""
        body = stream.body
        error = stream.error
        message = b""
        if error is None:
            if len(body) < 5:
                error = (Status.INTERNAL, "no request message")
            else:
                compressed, length = body[0], int.from_bytes(body[1:5])
                if compressed:
                    error = (Status.UNIMPLEMENTED, "compressed requests are not supported")
                elif length != len(body) - 5:
                    error = (Status.INTERNAL, "not exactly one request message")
                else:
                    message = bytes(body[5:])
        stream.body = bytearray()
        stream.complete = True
        calls.append(Call(stream.id, stream.path, message, error))

    def _reset(self, stream: _Stream, code: int) -> None:
        """A stream error: RST_STREAM, and the stream (with any answer to come) is forgotten."""
        self._frame(RST_STREAM, 0, stream.id, struct.pack(">I", code))
        del self._streams[stream.id]

    def _on_settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id or (flags & ACK and payload) or len(payload) % 6:
            raise PeerProtocolError(FRAME_SIZE_ERROR, "malformed SETTINGS")
        if flags & ACK:
            return
        for offset in range(0, len(payload), 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if key == INITIAL_WINDOW_SIZE:
                if value > _MAX_WINDOW:
                    raise PeerProtocolError(FLOW_CONTROL_ERROR, "initial window too large")
                delta = value - self._peer_initial
                if any(s.send_window + delta > _MAX_WINDOW for s in self._streams.values()):
                    raise PeerProtocolError(FLOW_CONTROL_ERROR, "a stream window overflows")
                self._peer_initial = value
                for stream in self._streams.values():
                    stream.send_window += delta
            elif key == MAX_FRAME_SIZE:
                if not _DEFAULT_FRAME <= value <= 2**24 - 1:
                    raise PeerProtocolError(PROTOCOL_ERROR, "invalid max frame size")
                self._peer_frame = value
            elif key == HEADER_TABLE_SIZE:
                pass  # governs our encoder's table, and we never index
        self._frame(SETTINGS, ACK, 0, b"")
        self._flush_streams()

    def _on_window_update(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise PeerProtocolError(FRAME_SIZE_ERROR, "malformed WINDOW_UPDATE")
        increment = int.from_bytes(payload) & _MAX_WINDOW
        if stream_id == 0:
            if not increment or self._peer_window + increment > _MAX_WINDOW:
                raise PeerProtocolError(FLOW_CONTROL_ERROR, "bad connection window update")
            self._peer_window += increment
            self._flush_streams()
        elif (stream := self._streams.get(stream_id)) is not None:
            if not increment:
                self._reset(stream, PROTOCOL_ERROR)
            elif stream.send_window + increment > _MAX_WINDOW:
                self._reset(stream, FLOW_CONTROL_ERROR)
            else:
                stream.send_window += increment
                self._flush(stream)

    def _grant_window(self) -> None:
        # Our windows start at the maximum; give back what was consumed once it is a lot, so
        # the client never stalls (streams end long before their own windows run out).
        if self._received_unacked > 1 << 30:
            self._frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", self._received_unacked))
            self._received_unacked = 0

    # -- output -----------------------------------------------------------------------------

    def respond(self, stream_id: int, message: bytes) -> None:
        """A unary answer: headers, one message, trailers with status OK."""
        if self.start_response(stream_id):
            self.send_message(stream_id, message)
            self.finish(stream_id, Status.OK)

    def start_response(self, stream_id: int) -> bool:
        """Send the response headers; False when the stream is gone (reset by the client)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            return False
        if not stream.responding:
            stream.responding = True
            self._headers(stream_id, 0, _RESPONSE_HEADERS)
        return True

    def send_message(self, stream_id: int, message: bytes) -> None:
        stream = self._streams.get(stream_id)
        if stream is None or not self.start_response(stream_id):
            return
        stream.outbound += b"\x00" + len(message).to_bytes(4) + message
        self._flush(stream)

    def finish(self, stream_id: int, status: int, detail: str = "") -> None:
        """End the call with ``status``: trailers after the messages, or, before any response
        headers, a trailers-only answer."""
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        block = _trailers(status, detail)
        if not stream.responding:
            stream.responding = True
            block = _RESPONSE_HEADERS + block
        if stream.outbound:
            stream.end_after_outbound = block
        else:
            self._end(stream, block)

    def fail(self, stream_id: int, status: int, detail: str) -> None:
        """Answer with an error: trailers-only if nothing was sent yet, else plain trailers."""
        self.finish(stream_id, status, detail)

    def goaway(self, code: int = NO_ERROR) -> None:
        self._frame(GOAWAY, 0, 0, struct.pack(">II", self._last_stream, code))
        self.closed = True

    def data_to_send(self) -> bytes:
        data = bytes(self._outbound)
        self._outbound.clear()
        return data

    @property
    def active_streams(self) -> int:
        return len(self._streams)

    def _end(self, stream: _Stream, block: bytes) -> None:
        self._headers(stream.id, END_STREAM, block)
        del self._streams[stream.id]

    def _headers(self, stream_id: int, flags: int, block: bytes) -> None:
        """HEADERS, then CONTINUATION for what exceeds the client's frame size (a long
        grpc-message can): a larger frame is a connection error to the client."""
        size = self._peer_frame
        chunks = [block[start : start + size] for start in range(size, len(block), size)]
        self._frame(HEADERS, flags | (0 if chunks else END_HEADERS), stream_id, block[:size])
        for n, chunk in enumerate(chunks, 1):
            self._frame(CONTINUATION, END_HEADERS if n == len(chunks) else 0, stream_id, chunk)

    def _flush_streams(self) -> None:
        for stream in list(self._streams.values()):
            self._flush(stream)

    def _flush(self, stream: _Stream) -> None:
        """Send as much of the stream's pending DATA as both windows allow."""
        pending = stream.outbound
        while pending:
            size = min(len(pending), self._peer_frame, self._peer_window, stream.send_window)
            if size <= 0:
                return
            self._frame(DATA, 0, stream.id, bytes(pending[:size]))
            del pending[:size]
            self._peer_window -= size
            stream.send_window -= size
        if stream.end_after_outbound is not None:
            block, stream.end_after_outbound = stream.end_after_outbound, None
            self._end(stream, block)

    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        length = len(payload)
        self._outbound += _HEADER.pack(length >> 8, length & 0xFF, kind, flags, stream_id)
        self._outbound += payload


def _literal(name: bytes, value: bytes) -> bytes:
    """A header field as a literal without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    return b"\x00" + _length(name) + name + _length(value) + value


def _length(text: bytes) -> bytes:
    n = len(text)
    if n < 127:
        return bytes([n])
    out = bytearray([127])
    n -= 127
    while n >= 128:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# ":status: 200" is static entry 8; content-type is static name 31 (4-bit prefix: 15 + 16).
_RESPONSE_HEADERS = b"\x88" + b"\x0f\x10" + _length(b"application/grpc") + b"application/grpc"


_OK_TRAILERS = _literal(b"grpc-status", b"0")  # nearly every answer's


def _trailers(status: int, detail: str) -> bytes:
    if status == Status.OK and not detail:
        return _OK_TRAILERS
    block = _literal(b"grpc-status", str(status).encode())
    if detail:
        # gRPC's percent-encoding: printable ASCII but "%" stays, everything else is UTF-8 %XX.
        text = "".join(
            c
            if " " <= c <= "~" and c != "%"
            else "".join(f"%{b:02X}" for b in c.encode(errors="replace"))
            for c in detail
        )
        block += _literal(b"grpc-message", text.encode())
    return block
