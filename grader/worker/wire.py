"""Plain data across the process boundary: JSON with arrays as base64, never a pickle.

Only ``None``, ``bool``, ``int``, ``float``, ``str``, lists, string-keyed dicts and numeric
NumPy arrays travel. ``decode`` rebuilds exactly those types and refuses anything else, so
nothing a worker sends can run code in the grader.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import struct
from typing import Any, BinaryIO

import numpy as np

ARRAY_KEY = "__ndarray__"
FLOAT_KEY = "__float__"
ALLOWED_DTYPES = frozenset(
    {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
     "complex64", "complex128", "uint16", "uint32", "uint64"}
)
MAX_FRAME = 256 * 1024 * 1024
_ITEMSIZE = {name: np.dtype(name).itemsize for name in ALLOWED_DTYPES}


class WireError(ValueError):
    """A message that is not plain data in our format."""


class FrameTooLarge(WireError):
    """A message longer than its reader allows (``size`` bytes)."""

    def __init__(self, size: int):
        super().__init__(f"message of {size} bytes is too large")
        self.size = size


class Raw:
    """Plain data already encoded as JSON text, embedded as is by :func:`dumps` (a case's
    inputs are encoded once and sent for every student)."""

    __slots__ = ("text", "key")

    def __init__(self, value: Any):
        self.text = dumps(value)
        self.key = hashlib.sha1(self.text).hexdigest()
        """Names the content: a fork server keeps decoded inputs under this key."""


_RAW_MARK = "\ue000" + os.urandom(6).hex()
"""How :func:`dumps` marks a Raw's place: a private-use character (escaped by JSON) and a
nonce, so no student-controlled string can collide with it."""
_RAW_PATTERN = re.compile(re.escape(json.dumps(_RAW_MARK).encode()[:-1]) + rb':(\d+)"')


def to_jsonable(value: Any) -> Any:
    """Turn plain data (with NumPy arrays) into JSON-ready structures."""
    if value is None or isinstance(value, (bool, str, Raw)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else {FLOAT_KEY: repr(f)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        if value.dtype.name not in ALLOWED_DTYPES:
            raise WireError(f"arrays of dtype {value.dtype} cannot be sent")
        data = np.ascontiguousarray(value)
        return {ARRAY_KEY: {"dtype": data.dtype.name, "shape": list(data.shape),
                            "data": base64.b64encode(data.tobytes()).decode("ascii")}}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise WireError(f"dict keys must be strings, not {type(k).__name__}")
            out[k] = to_jsonable(v)
        return out
    raise WireError(f"{type(value).__name__} is not plain data")


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable`, validating every array."""
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {ARRAY_KEY}:
            return _decode_array(value[ARRAY_KEY])
        if set(value) == {FLOAT_KEY}:
            text = value[FLOAT_KEY]
            if text not in ("nan", "inf", "-inf"):
                raise WireError(f"bad float {text!r}")
            return float(text)
        return {str(k): from_jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise WireError(f"unexpected JSON value {type(value).__name__}")


def _decode_array(spec: Any) -> np.ndarray:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise WireError("malformed array")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise WireError(f"dtype {str(dtype)[:40]!r} not allowed")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("malformed shape")
    if not isinstance(data, str):
        raise WireError("malformed array data")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    if math.prod(shape) * _ITEMSIZE[dtype] != len(raw):
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def dumps(value: Any) -> bytes:
    raws: list[bytes] = []

    def mark(obj):
        if not isinstance(obj, Raw):
            raise TypeError(f"{type(obj).__name__} is not plain data")
        raws.append(obj.text)
        return f"{_RAW_MARK}:{len(raws) - 1}"
    text = json.dumps(to_jsonable(value), allow_nan=False, separators=(",", ":"),
                      default=mark).encode()
    if raws:  # one pass over the text; ensure_ascii keeps each mark as escaped ASCII
        text = _RAW_PATTERN.sub(lambda m: raws[int(m.group(1))], text)
    return text


def relay(value: Any) -> bytes:
    """JSON text of what was parsed from JSON text (``json.loads``: no NumPy value, no
    ``Raw``), as :func:`dumps` would write it, without its walk over every value (a fork
    server passes requests on this way). A non-finite float (``NaN`` parses) is refused."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()
    except (ValueError, TypeError, RecursionError) as exc:
        raise WireError(str(exc) or type(exc).__name__) from None


def _object(value: dict) -> Any:
    """:func:`from_jsonable` of one JSON object whose members are decoded already (the
    parser's ``object_hook``: called for each object, innermost first)."""
    if len(value) == 1:
        if ARRAY_KEY in value:
            return _decode_array(value[ARRAY_KEY])
        if FLOAT_KEY in value:
            return from_jsonable(value)
    return value


def loads(raw: bytes) -> Any:
    """Plain data from JSON text: :func:`from_jsonable` of it, applied while it is parsed.
    Bytes are UTF-8, decoded strictly: ``json.loads`` would guess UTF-16 or 32, and keep
    the bytes of a lone surrogate (``ED A0 80``) as one. A lone surrogate written as an escape
    (``"\\ud800"``: JSON may say it, UTF-8 cannot) becomes U+FFFD. Either way one reached
    a page, whose writing failed and stopped the batch (red teams: an exception message,
    then a forged result's names of mutated inputs)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        value = json.loads(text, object_hook=_object)
    except (ValueError, UnicodeDecodeError, TypeError, RecursionError, OverflowError,
            MemoryError) as exc:
        raise WireError(str(exc) or type(exc).__name__) from None
    if _SURROGATE.search(text):
        value = _whole_characters(value)
    return value


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
"""A surrogate's escape in JSON text (pairs too: only lone ones are replaced)."""


def _whole_characters(value: Any) -> Any:
    """``value`` with every lone surrogate of its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value) \
            if any("\ud800" <= c <= "\udfff" for c in value) else value
    if isinstance(value, list):
        return [_whole_characters(v) for v in value]
    if isinstance(value, dict):
        return {_whole_characters(k): _whole_characters(v) for k, v in value.items()}
    return value


PARTS_KEY = "parts"


def join_parts(head: dict, parts: list[bytes]) -> bytes:
    """One message of a head (plain data) and parts (JSON texts relayed undecoded): the head
    with the parts' sizes under ``"parts"``, a newline, then the parts back to back.

    A fork server passes a student's results on this way without decoding and re-encoding
    them; whoever reads the message decodes each part on its own, so one unreadable part
    (forged by the code that made it) spoils that part only."""
    head = {**head, PARTS_KEY: [len(p) for p in parts]}
    try:  # a head of JSON's own types needs no walk (a fork server's outcome has only those)
        text = relay(head)
    except WireError:  # NumPy values, a non-finite float: as dumps writes them
        text = json.dumps(to_jsonable(head), allow_nan=False, separators=(",", ":")).encode()
    return b"\n".join([text, b"".join(parts)]) if parts else text


def split_parts(payload: bytes, decode=None) -> tuple[Any, list[bytes]]:
    """Inverse of :func:`join_parts`: the head (decoded by ``decode``, :func:`loads` unless
    told) and the parts, undecoded. JSON text never holds a raw newline, so the first one
    ends the head; sizes that do not add up raise WireError."""
    end = payload.find(b"\n")
    head = (decode or loads)(payload if end < 0 else payload[:end])
    sizes = head.pop(PARTS_KEY, []) if isinstance(head, dict) else []
    body = b"" if end < 0 else payload[end + 1:]
    if (not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes)
            or sum(sizes) != len(body)):
        raise WireError("message parts do not match their sizes")
    parts, at = [], 0
    for n in sizes:
        parts.append(body[at:at + n])
        at += n
    return head, parts


def write_frame(stream: BinaryIO | int, value: Any) -> None:
    """Write one length-prefixed message to a file object or a raw fd."""
    write_payload(stream, dumps(value))


def framed(payload: bytes) -> bytes:
    """Already-encoded JSON bytes as one length-prefixed message."""
    return struct.pack(">I", len(payload)) + payload


def write_payload(stream: BinaryIO | int, payload: bytes) -> None:
    """Write already-encoded JSON bytes as one length-prefixed message."""
    frame = framed(payload)
    if isinstance(stream, int):
        view = memoryview(frame)
        while view:
            n = os.write(stream, view)
            view = view[n:]
    else:
        stream.write(frame)
        stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one message; ``EOFError`` at a clean end of stream."""
    return loads(read_payload(stream))


def read_payload(stream: BinaryIO) -> bytes:
    """Read one message's JSON bytes, undecoded."""
    header = _read_exact(stream, 4)
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise FrameTooLarge(size)
    return _read_exact(stream, size)


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            if got == 0:
                raise EOFError
            raise WireError("truncated message")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Incremental reader of length-prefixed messages from a non-blocking stream."""

    def __init__(self, limit: int = MAX_FRAME, decode=None):
        self._buf = bytearray()
        self._limit = limit
        self._decode = decode or loads

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        out = []
        while len(self._buf) >= 4:
            (size,) = struct.unpack(">I", self._buf[:4])
            if size > self._limit:
                raise FrameTooLarge(size)
            if len(self._buf) < 4 + size:
                break
            payload = bytes(self._buf[4:4 + size])
            del self._buf[:4 + size]
            try:
                out.append(self._decode(payload))
            except (ValueError, RecursionError) as exc:  # JSON nested too deep: refused too
                raise WireError(str(exc) or type(exc).__name__) from None
        return out
