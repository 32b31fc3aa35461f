"""Only plain data crosses the process boundary; anything else is refused."""
import io
import pickle

import numpy as np
import pytest

from grader.worker import wire


def test_round_trip_keeps_arrays_numbers_and_non_finite_floats():
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": [1, 2.5, float("nan")],
             "c": None, "d": "text", "e": True}
    back = wire.loads(wire.dumps(value))
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    assert back["b"][:2] == [1, 2.5] and np.isnan(back["b"][2])
    assert back["c"] is None and back["d"] == "text" and back["e"] is True


def test_objects_are_refused_when_sending():
    class Sneaky:
        def __reduce__(self):
            raise AssertionError("never called")
    with pytest.raises(wire.WireError):
        wire.dumps({"x": Sneaky()})
    with pytest.raises(wire.WireError):
        wire.dumps(np.array([object()]))


def test_a_pickle_is_never_unpickled():
    with pytest.raises(wire.WireError):
        wire.loads(pickle.dumps({"a": 1}))


@pytest.mark.parametrize("bad", [
    b'{"__ndarray__": {"dtype": "object", "shape": [1], "data": ""}}',
    b'{"__ndarray__": {"dtype": "float64", "shape": [3], "data": "AAAA"}}',
    b'{"__float__": "__import__(\'os\')"}',
])
def test_malformed_arrays_and_floats_are_refused(bad):
    with pytest.raises(wire.WireError):
        wire.loads(bad)


def test_frames_round_trip_and_truncation_is_detected():
    buf = io.BytesIO()
    wire.write_frame(buf, {"x": 1})
    wire.write_frame(buf, [1, 2])
    raw = buf.getvalue()
    reader = wire.FrameReader()
    assert reader.feed(raw[:5]) == []
    assert reader.feed(raw[5:]) == [{"x": 1}, [1, 2]]
    with pytest.raises(wire.WireError):
        wire.read_frame(io.BytesIO(raw[:6]))


def test_raw_json_is_spliced_in_place_and_a_lookalike_string_is_left_alone():
    inputs = {"x": np.arange(3.0), "n": 2}
    raw = wire.Raw(inputs)
    sent = wire.dumps({"calls": [{"inputs": raw}, {"inputs": raw}],
                       "path": "\ue000not-a-mark:0"})
    back = wire.loads(sent)
    assert [c["inputs"]["n"] for c in back["calls"]] == [2, 2]
    assert np.array_equal(back["calls"][1]["inputs"]["x"], np.arange(3.0))
    assert back["path"] == "\ue000not-a-mark:0"
    assert wire.Raw(inputs).key == raw.key != wire.Raw({"x": np.arange(4.0), "n": 2}).key


def test_parts_travel_undecoded_and_sizes_that_do_not_add_up_are_refused():
    parts = [wire.dumps({"x": np.arange(3.0)}), b'"line\\nbreak"', b""]
    payload = wire.join_parts({"note": "a\nb", "n": 1}, parts)
    head, back = wire.split_parts(payload)
    assert head == {"note": "a\nb", "n": 1} and back == parts  # a newline in text is escaped
    assert wire.loads(back[0])["x"].tolist() == [0.0, 1.0, 2.0]
    assert wire.split_parts(wire.join_parts({"n": 2}, [])) == ({"n": 2}, [])
    for bad in (payload + b"x", payload[:-3], b'{"parts":[-1]}\n', b'{"parts":"3"}\nabc'):
        with pytest.raises(wire.WireError):
            wire.split_parts(bad)


def test_json_nested_too_deep_is_refused_not_a_crash():
    deep = b"[" * 100000 + b"]" * 100000
    with pytest.raises(wire.WireError):
        wire.loads(deep)
    with pytest.raises(wire.WireError):
        wire.FrameReader(decode=__import__("json").loads).feed(
            len(deep).to_bytes(4, "big") + deep)


def test_what_a_fork_server_relays_reads_back_as_the_grader_sent_it():
    """A fork server passes a request on as it parsed it (``relay``) and writes its outcome's
    head without walking it: the same values arrive, and what JSON cannot say faithfully is
    refused or written as ``dumps`` writes it, never as NaN or a lost value."""
    import json
    sent = {"calls": [{"key": "k", "inputs": {"x": np.arange(3.0), "n": float("nan")}}],
            "limits": {"seconds": 1.5}}
    parsed = json.loads(wire.dumps(sent))
    again = wire.loads(wire.relay(parsed))
    assert np.array_equal(again["calls"][0]["inputs"]["x"], np.arange(3.0))
    assert np.isnan(again["calls"][0]["inputs"]["n"]) and again["limits"] == {"seconds": 1.5}
    with pytest.raises(wire.WireError):  # a bare NaN (json.loads takes one) is not relayed
        wire.relay({"x": float("nan")})
    head, parts = wire.split_parts(wire.join_parts(
        {"cpu": np.float32(0.5), "n": np.int64(3), "bad": float("inf"), "ok": [1, "a"]},
        [b'{"r":1}']))
    assert parts == [b'{"r":1}']
    assert head == {"cpu": 0.5, "n": 3, "bad": float("inf"), "ok": [1, "a"]}


def test_bytes_are_utf8_strictly():
    """A lone surrogate's raw bytes (no escape) and UTF-16 text are not plain data: parsed as
    `json.loads` parses bytes, the first became a string no page can hold."""
    with pytest.raises(wire.WireError):
        wire.loads(b'{"a": "\xed\xa0\x80"}')
    with pytest.raises(wire.WireError):
        wire.loads('{"a": 1}'.encode("utf-16"))
    assert wire.loads('{"a": "\u00e9"}'.encode()) == {"a": "\u00e9"}
