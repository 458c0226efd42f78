"""Just enough of an HTTP/2 gRPC client to drive our server frame by frame in tests.

It encodes headers as grpc-go does (hpack with Huffman and the dynamic table), so the server's
decoder meets what Terraform sends; frames are built and parsed by hand so that tests can send
what no well-behaved client would.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hpack import Decoder, Encoder

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY = range(8)
WINDOW_UPDATE, CONTINUATION = 8, 9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20


@dataclass(frozen=True)
class Frame:
    kind: int
    flags: int
    stream_id: int
    payload: bytes


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">HBBBI", n >> 8, n & 0xFF, kind, flags, stream_id) + payload


def split(data: bytes) -> tuple[list[Frame], bytes]:
    """The complete frames at the start of ``data``, and the bytes of a partial one after them."""
    frames, offset = [], 0
    while len(data) - offset >= 9:
        high, low, kind, flags, stream_id = struct.unpack_from(">HBBBI", data, offset)
        end = offset + 9 + (high << 8 | low)
        if end > len(data):
            break
        frames.append(Frame(kind, flags, stream_id, data[offset + 9 : end]))
        offset = end
    return frames, data[offset:]


def parse(data: bytes) -> list[Frame]:
    """Every frame in ``data``, which must hold only complete frames."""
    frames, rest = split(data)
    assert not rest, "a partial frame"
    return frames


def grpc_message(message: bytes, *, compressed: bool = False) -> bytes:
    return bytes([compressed]) + len(message).to_bytes(4) + message


class Client:
    """Encodes requests and decodes answers, keeping hpack state on both sides."""

    def __init__(self) -> None:
        self.encoder = Encoder()
        self.decoder = Decoder()

    def preface(self, **settings: int) -> bytes:
        ids = {"initial_window_size": 0x4, "max_frame_size": 0x5, "header_table_size": 0x1}
        body = b"".join(struct.pack(">HI", ids[k], v) for k, v in settings.items())
        return PREFACE + frame(SETTINGS, 0, 0, body)

    def headers_block(
        self, path: str, content_type: str = "application/grpc", **extra: str
    ) -> bytes:
        fields = [
            (":method", "POST"),
            (":scheme", "https"),
            (":path", path),
            (":authority", "localhost"),
            ("content-type", content_type),
            ("user-agent", "grpc-go/1.73.0"),
            ("te", "trailers"),
            *extra.items(),
        ]
        return bytes(self.encoder.encode(fields, huffman=True))

    def call(self, stream_id: int, path: str, message: bytes) -> bytes:
        """HEADERS then one DATA frame with END_STREAM, as grpc-go sends a unary call."""
        block = self.headers_block(path)
        return frame(HEADERS, END_HEADERS, stream_id, block) + frame(
            DATA, END_STREAM, stream_id, grpc_message(message)
        )

    def headers(self, f: Frame) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.decoder.decode(f.payload)}
