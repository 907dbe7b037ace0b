"""The package's API: the python-idmefv2 layout, serializers, exceptions,
values JSON cannot hold, strict checks, paths, limits and NDJSON."""
import importlib
import importlib.metadata
import inspect
import io
import json
import math
import pathlib
import pickle
import subprocess
import sys
from collections import deque
from datetime import datetime

import pytest

import idmefv2_rs as idmefv2
from conftest import FIXTURES, load, optional
from idmefv2_rs import Message, SerializedMessage, Serializer, ValidationError

MINIMAL = load(FIXTURES / "valid" / "minimal.json")
SECRET = "hunter2-credential"


def violations(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return [(v.pointer, v.keyword) for v in caught.value.violations]


def encoded(message) -> SerializedMessage:
    return SerializedMessage("application/json", json.dumps(message).encode())


# --- The layout of python-idmefv2 -------------------------------------------


@pytest.mark.parametrize(
    "module", ["", ".message", ".serializer", ".exceptions", ".serializers.json"]
)
def test_every_public_name_of_python_idmefv2_is_here(module):
    reference = optional("idmefv2" + module)
    ours = importlib.import_module("idmefv2_rs" + module)
    names = [
        name
        for name, value in vars(reference).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        # At the root, what it re-exports; in a module, what it defines.
        and (value.__module__ == reference.__name__ or (not module and value.__module__.startswith("idmefv2")))
    ]
    assert names
    for name in names:
        assert hasattr(ours, name), f"idmefv2_rs{module}.{name}"
        theirs_value = getattr(reference, name)
        if inspect.isclass(theirs_value):
            for attr in vars(theirs_value):
                if not attr.startswith("_"):
                    assert hasattr(getattr(ours, name), attr), f"{name}.{attr}"


def test_message_is_a_dict_and_serialized_message_a_container():
    message = Message()
    assert isinstance(message, dict) and message == {}
    payload = SerializedMessage("text/json", b"{}")
    assert payload.get_content_type() == "text/json" == payload.content_type
    assert bytes(payload) == b"{}" == payload.payload


def test_serializers_come_from_entry_points_of_the_installed_package():
    group = importlib.metadata.entry_points()
    found = (
        group.select(group="idmefv2_rs.serializers")
        if hasattr(group, "select")
        else group.get("idmefv2_rs.serializers", [])
    )
    names = {e.name: e.value for e in found}
    assert names["application/json"] == names["text/json"]
    assert names["text/json"] == "idmefv2_rs.serializers.json:JSONSerializer"
    from idmefv2_rs.serializers.json import JSONSerializer

    for content_type in ("application/json", "text/json", "Application/JSON; charset=utf-8"):
        assert type(Serializer.get_serializer(content_type)) is JSONSerializer
    with pytest.raises(KeyError):
        Serializer.get_serializer("application/xml")
    with pytest.raises(KeyError):
        Message(MINIMAL).serialize("application/xml")
    with pytest.raises(KeyError):
        Message.unserialize(SerializedMessage("application/xml", b"{}"))


class Reversed(Serializer):
    """A made-up encoding: JSON with its bytes in reverse order."""

    calls = 0

    def serialize(self, message):
        Reversed.calls += 1
        return json.dumps(message).encode()[::-1]

    def unserialize(self, payload):
        return json.loads(payload[::-1])


def test_a_registered_serializer_is_used_and_messages_still_validated():
    Serializer.register("application/x-reversed", Reversed)
    message = Message(MINIMAL)
    out = message.serialize("application/x-reversed")
    assert bytes(out).startswith(b"}")
    assert Message.unserialize(out) == MINIMAL

    bad = Message(MINIMAL, ID="not-a-uuid")
    before = Reversed.calls
    assert violations(lambda: bad.serialize("application/x-reversed")) == [("/ID", "pattern")]
    assert Reversed.calls == before, "validated before encoding"
    payload = SerializedMessage("application/x-reversed", json.dumps(bad).encode()[::-1])
    assert violations(lambda: Message.unserialize(payload)) == [("/ID", "pattern")]
    with pytest.raises(TypeError):
        Serializer.register("application/x-bad", dict)


def test_the_json_serializer_is_strict_json():
    from idmefv2_rs.serializers.json import JSONSerializer

    json_serializer = JSONSerializer()
    assert json_serializer.unserialize('{"a": [1, 2.5, "é"]}') == {"a": [1, 2.5, "é"]}
    for bad in (b'{"a": 1, "a": 2}', b'{"a": NaN}', b'["\\ud800"]', b"[1,]", b"{} x", b"\xff"):
        with pytest.raises(idmefv2.SerializationError):
            json_serializer.unserialize(bad)
    with pytest.raises(idmefv2.SerializationError, match="line 2, column 5"):
        json_serializer.unserialize(b'{"a":\n  1 2}')
    with pytest.raises(idmefv2.SerializationError, match="/a/1"):
        json_serializer.serialize({"a": [1, math.inf]})
    assert json_serializer.serialize({"é": [1, None, True]}) == '{"é":[1,null,true]}'.encode()


def test_a_message_subclass_is_kept_and_its_update_honoured():
    class Mine(Message):
        updates = 0

        def update(self, *args, **kwargs):
            Mine.updates += 1
            super().update(*args, **kwargs)

    class Plain(Message):
        pass

    assert type(Plain.unserialize(encoded(MINIMAL))) is Plain
    got = Mine.unserialize(encoded(MINIMAL))
    assert type(got) is Mine and got == MINIMAL and Mine.updates == 1


# --- Validation errors ------------------------------------------------------


def two_problems():
    return Message(MINIMAL, ID=SECRET, Analyzer={"Name": "x", "IP": SECRET})


def test_validation_errors_carry_every_violation_never_the_value():
    jsonschema = optional("jsonschema")
    with pytest.raises(ValidationError) as caught:
        two_problems().validate()
    error = caught.value
    assert isinstance(error, jsonschema.exceptions.ValidationError)
    assert isinstance(error, ValueError)
    assert [(v.pointer, v.keyword) for v in error.violations] == [
        ("/ID", "pattern"),
        ("/Analyzer/IP", "pattern"),
    ]
    assert error.violations[0].reason == "not a UUID (8-4-4-4-12 hexadecimal digits)"
    assert error.validator == "pattern" and error.path == deque(["ID"])
    assert error.absolute_path == deque(["ID"]) and error.json_path == "$.ID"
    for text in (str(error), repr(error), repr(error.violations), error.message):
        assert SECRET not in text
    assert str(error) == (
        "invalid IDMEFv2 message: /ID: not a UUID (8-4-4-4-12 hexadecimal digits); "
        "/Analyzer/IP: not an IPv4 or IPv6 address"
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ValidationError and again.violations == error.violations


def test_list_indices_are_ints_in_the_path():
    message = Message(MINIMAL, Source=[{"ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "Port": ["x"]}])
    with pytest.raises(ValidationError) as caught:
        message.validate()
    assert caught.value.path == deque(["Source", 0, "Port", 0])


def test_without_jsonschema_a_validation_error_is_a_value_error():
    script = """
import sys
sys.modules["jsonschema"] = None  # as if not installed
import idmefv2_rs
try:
    idmefv2_rs.Message({"Version": "2.D.V08"}).validate()
except ValueError as e:
    bases = [c.__module__ + "." + c.__name__ for c in type(e).__mro__]
    print(len(e.violations), e.validator, list(e.path), *bases)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    words = out.stdout.split()
    assert words[:3] == ["3", "required", "[]"]
    assert "builtins.ValueError" in words
    assert not any(w.startswith("jsonschema") for w in words)


# --- Values JSON cannot hold -----------------------------------------------


@pytest.mark.parametrize(
    "member,value,where,keyword",
    [
        ("Confidence", math.nan, "/Confidence", "type"),
        ("Confidence", -math.inf, "/Confidence", "type"),
        ("Description", "bad \ud800 text", "/Description", "type"),
        ("CreateTime", datetime(2025, 1, 1), "/CreateTime", "type"),
        ("Analyzer", {"Name": "x", 7: "y"}, "/Analyzer", "type"),
        ("Attachment", [{"Name": "a", "Size": 10**400}], "/Attachment/0/Size", "type"),
        ("Note", {"a/b": [b"bytes"]}, "/Note/a~1b/0", "type"),
    ],
)
def test_values_json_cannot_hold_are_refused_where_they_are(member, value, where, keyword):
    message = Message(MINIMAL, **{member: value})
    assert violations(message.validate) == [(where, keyword)]
    assert violations(lambda: message.serialize("application/json")) == [(where, keyword)]


def test_a_message_that_contains_itself_is_refused_not_followed():
    content = {}
    content["again"] = content
    message = Message(MINIMAL, Attachment=[{"Name": "a", "Content": content}])
    found = violations(message.validate)
    assert len(found) == 1 and found[0][1] == "depth"
    assert found[0][0].startswith("/Attachment/0/Content/again/again")


def test_numbers_and_texts_come_back_exactly():
    content = {
        "big": 2**70,
        "negative": -(2**65),
        "floats": [0.1, 1e-300, 5e-324, 1.7976931348623157e308, -0.0, 1.0],
        "text": "é ☃ 😀 \u0000 \" \\ \n",
        "tuple": (1, 2),
    }
    message = Message(MINIMAL, Attachment=[{"Name": "a", "Content": content}])
    back = Message.unserialize(message.serialize("application/json"))
    got = back["Attachment"][0]["Content"]
    assert got == dict(content, tuple=[1, 2])
    assert [type(x) for x in got["floats"]] == [float] * 6
    assert math.copysign(1, got["floats"][4]) == -1
    assert type(got["big"]) is int


def test_escapes_and_numbers_read_as_json_loads_reads_them():
    text = (
        b'{"a": "\\u00e9\\ud83d\\ude00\\n\\/\\t", "b": [-0, -0.0, 1E2, 1e-2, 0.5, '
        b'123456789012345678901234567890, true, false, null], "c": {}}'
    )
    from idmefv2_rs.serializers.json import JSONSerializer

    got = JSONSerializer().unserialize(text)
    assert got == json.loads(text)
    assert [type(x) for x in got["b"][:6]] == [type(x) for x in json.loads(text)["b"][:6]]


# --- Strict checks, drafts, paths ------------------------------------------


def test_strict_checks_the_rules_beyond_the_schema():
    lax = Message(load(FIXTURES / "valid" / "timestamps-without-offset.json"))
    lax.validate()
    assert violations(lambda: lax.validate(strict=True)) == [
        ("/CreateTime", "timestamp-offset"),
        ("/ReportTime", "timestamp-offset"),
    ]
    ports = Message(MINIMAL, Source=[{"ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "Port": [0]}])
    ports.validate()
    assert violations(lambda: ports.validate(strict=True)) == [("/Source/0/Port/0", "port-range")]
    Message(MINIMAL).validate(strict=True)

    older = Message(load(FIXTURES / "drafts" / "valid" / "v04-minimal.json"))
    older.validate()
    assert violations(lambda: older.validate(strict=True)) == [("/Version", "older-draft")]
    older.upgrade().message.validate(strict=True)


def test_every_draft_is_known():
    assert idmefv2.supported_versions() == [
        "2.D.V02", "2.D.V03", "2.D.V04", "2.D.V05",
        "2.D.V06", "2.D.V07", "2.D.V08-Dev", "2.D.V08", "2.D.V09-Dev",
    ]
    assert violations(Message(MINIMAL, Version="2.D.V10").validate) == [("/Version", "Version")]


def test_paths_parse_normalize_and_point():
    path = idmefv2.Path("Source.IP")
    assert str(path) == "Source(0).IP" and path == idmefv2.Path("Source(0).IP")
    assert hash(path) == hash(idmefv2.Path("Source(0).IP"))
    assert (path.class_name, path.class_index, path.attribute, path.index) == ("Source", 0, "IP", None)
    assert path.pointer == "/Source/0/IP"
    assert idmefv2.Path("Source(-1).IP").pointer is None
    assert repr(path) == "Path('Source(0).IP')"
    assert idmefv2.Path("Version") in idmefv2.Path.all()
    for bad in ("Source.Nope", "Analyzer(0).Name", "", "Source("):
        with pytest.raises(ValueError):
            idmefv2.Path(bad)


def test_get_and_set_by_path():
    message = Message(MINIMAL)
    assert message.get_path("Analyzer.Name") == "lab-probe"
    assert message.get_path(idmefv2.Path("Source.IP")) is None
    message.set_path("Source(0).ID", "9d6a3b1c-5e2f-4a7b-8c9d-0e1f2a3b4c5d")
    message.set_path("Source(0).IP", "192.0.2.7")
    message.set_path("Source(0).Port(0)", 22)
    assert message["Source"] == [
        {"ID": "9d6a3b1c-5e2f-4a7b-8c9d-0e1f2a3b4c5d", "IP": "192.0.2.7", "Port": [22]}
    ]
    before = json.loads(json.dumps(message))
    assert violations(lambda: message.set_path("Source(0).IP", SECRET)) == [("/Source/0/IP", "pattern")]
    assert violations(lambda: message.set_path("Source(0).Port(5)", 1))[0][0].startswith("/Source/0/Port")
    assert message == before, "a refused set changes nothing"
    older = Message(load(FIXTURES / "drafts" / "valid" / "v04-minimal.json"))
    assert violations(lambda: older.get_path("Analyzer.Name")) == [("/Version", "Version")]


# --- Limits and NDJSON -----------------------------------------------------


def test_limits_bound_size_and_nesting():
    data = json.dumps(MINIMAL).encode()
    small = idmefv2.Limits(max_bytes=len(data) - 1)
    with pytest.raises(ValidationError, match="exceeds the limit"):
        Message.unserialize(SerializedMessage("application/json", data), limits=small)
    Message.unserialize(SerializedMessage("application/json", data), limits=idmefv2.Limits(max_bytes=len(data)))

    deep = {"x": 1}
    for _ in range(10):
        deep = {"x": deep}
    message = Message(MINIMAL, Attachment=[{"Name": "a", "Content": deep}])
    message.validate()
    shallow = idmefv2.Limits(max_depth=5)
    (where, keyword), = violations(lambda: message.validate(limits=shallow))
    assert keyword == "depth"
    with pytest.raises(ValidationError) as caught:
        Message.unserialize(message.serialize("application/json"), limits=shallow)
    assert [v.pointer for v in caught.value.violations] == [where]

    for bad in ({"max_depth": 1001}, {"max_bytes": -1}):
        with pytest.raises(ValueError):
            idmefv2.Limits(**bad)
    with pytest.raises(TypeError):
        idmefv2.Limits(max_depth=True)


def ndjson_lines():
    good = json.dumps(MINIMAL)
    return [
        good,
        "",
        json.dumps(dict(MINIMAL, ID="nope")),
        "   ",
        '{"Version": ',
        good + "\r",
        json.dumps(load(FIXTURES / "valid" / "timestamps-without-offset.json")),
        "x" * 5000,
        good,
    ]


def kinds(results):
    return [(r.line, type(r.error).__name__ if r.error else "ok") for r in results]


def test_ndjson_from_bytes_files_and_streams(tmp_path):
    text = "\n".join(ndjson_lines()).encode()
    want = [
        (1, "ok"),
        (3, "ValidationError"),
        (5, "SerializationError"),
        (6, "ok"),
        (7, "ok"),
        (8, "SerializationError"),
        (9, "ok"),
    ]
    path = tmp_path / "alerts.ndjson"
    path.write_bytes(text)
    assert kinds(idmefv2.validate_ndjson(text)) == want
    assert kinds(idmefv2.validate_ndjson(path)) == want
    assert kinds(idmefv2.validate_ndjson(str(path))) == want
    with open(path, "rb") as stream:
        assert kinds(idmefv2.validate_ndjson(stream)) == want
    results = list(idmefv2.validate_ndjson(text))
    assert [(v.pointer, v.keyword) for v in results[1].error.violations] == [("/ID", "pattern")]
    assert not results[1].valid and results[0].valid

    strict = kinds(idmefv2.validate_ndjson(text, strict=True))
    assert strict[4] == (7, "ValidationError")

    small = kinds(idmefv2.validate_ndjson(text, limits=idmefv2.Limits(max_bytes=4000)))
    assert small[5] == (8, "ValidationError")
    with open(path, encoding="utf-8") as stream, pytest.raises(TypeError):
        list(idmefv2.validate_ndjson(stream))


def test_ndjson_is_cut_as_the_command_line_tool_cuts_it():
    good = json.dumps(MINIMAL).encode()
    # A byte-order mark at the start is skipped; anywhere else it is kept
    # with its line, which is then refused.
    bom = b"\xef\xbb\xbf"
    results = kinds(idmefv2.validate_ndjson(bom + good + b"\n" + bom + good))
    assert results == [(1, "ok"), (2, "SerializationError")]
    # A file object's own exception comes through as it was raised.

    class Broken(io.RawIOBase):
        def read(self, n=-1):
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(idmefv2.validate_ndjson(Broken()))


def test_ndjson_measures_an_over_long_line_without_keeping_it():
    limits = idmefv2.Limits(max_bytes=100)
    for body, ending in ((b"y" * 100_000, b"\r\n"), (b"z" * 101, b""), (b"w" * 102, b"\n")):
        results = list(idmefv2.validate_ndjson(io.BytesIO(body + ending + b"{}"), limits=limits))
        assert [r.line for r in results] == ([1, 2] if ending else [1])
        assert f"message of {len(body) + (0 if ending else 2)} bytes" in str(results[0].error)


# --- Typing ------------------------------------------------------------------


def test_the_package_ships_its_types():
    root = pathlib.Path(idmefv2.__file__).parent
    assert (root / "py.typed").is_file()
    stub = (root / "_native.pyi").read_text(encoding="utf-8")
    for name in (n for n in dir(idmefv2._native) if not n.startswith("_")):
        assert f"def {name}(" in stub or f"class {name}:" in stub or f"{name}: int" in stub, name


def test_texts_are_escaped_and_read_as_json_does():
    import random

    rng = random.Random(12)
    alphabet = ['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "a", "Z", "/", "é", "☃", "😀", " "]
    from idmefv2_rs.serializers.json import JSONSerializer

    serializer = JSONSerializer()
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        written = serializer.serialize({"t": text})
        assert written == json.dumps({"t": text}, ensure_ascii=False, separators=(",", ":")).encode()
        assert serializer.unserialize(written) == {"t": text}
        assert serializer.unserialize(json.dumps({"t": text})) == {"t": text}


def test_the_readme_use_example_runs(tmp_path, monkeypatch, capsys):
    from conftest import ROOT

    readme = (ROOT / "python" / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Use", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "alerts.ndjson").write_bytes(b'{"Version": "2.D.V08"}\n')
    monkeypatch.chdir(tmp_path)
    scope = {
        "payload": (ROOT / "tools" / "data" / "typical.json").read_bytes(),
        "old_v04_dict": load(FIXTURES / "drafts" / "valid" / "v04-minimal.json"),
    }
    exec(compile(block, "python/README.md", "exec"), scope)
    assert scope["message"]["Target"][0]["Port"][0] == 443
    assert scope["upgraded"].message["Version"] == "2.D.V08"
    assert "1 " in capsys.readouterr().out  # the invalid NDJSON line was reported
