"""Agreement with python-idmefv2 0.8 (the `idmefv2` package on PyPI), run
side by side on every fixture.

Where python-idmefv2 decides wrongly, the case is listed in
data/disagreements.json (and in python/README.md). Each listed case is
checked both ways: python-idmefv2 still does what the list says (so the list
stays true), and this package decides as the official schema does. Every
other fixture must get the same verdict from both, at the same place.
"""
import json
import math

import pytest

import idmefv2_rs
from conftest import DATA, FIXTURES, ROOT, fixture_files, optional

reference = optional("idmefv2")
jsonschema = optional("jsonschema")

CASES = json.loads((DATA / "disagreements.json").read_text(encoding="utf-8"))
LISTED = {f for case in CASES for f in case.get("fixtures", [])}
ALL = [
    f"{folder}/{p.name}"
    for folder in ("valid", "invalid", "drafts/valid", "drafts/invalid")
    for p in fixture_files(folder)
]


def pointer(path) -> str:
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in path)


def theirs(data: bytes):
    """python-idmefv2's verdict: (kind, pointer or None, message or None)."""
    try:
        message = reference.Message.unserialize(reference.SerializedMessage("application/json", data))
    except jsonschema.exceptions.ValidationError as e:
        return "ValidationError", pointer(e.absolute_path), None
    except reference.SerializationError:
        return "SerializationError", None, None
    except Exception as e:  # what the list records: ModuleNotFoundError, ValueError
        return type(e).__name__, None, None
    return "accepted", None, message


def ours(data: bytes):
    """This package's verdict: (kind, every pointer)."""
    try:
        idmefv2_rs.Message.unserialize(idmefv2_rs.SerializedMessage("application/json", data))
    except idmefv2_rs.ValidationError as e:
        return "ValidationError", [v.pointer for v in e.violations]
    except idmefv2_rs.SerializationError:
        return "SerializationError", []
    return "accepted", []


def items():
    for case in CASES:
        for name in case.get("fixtures", []):
            yield pytest.param(case, (FIXTURES / name).read_bytes(), id=f"{case['case']}:{name}")
        for i, text in enumerate(case.get("payloads", [])):
            yield pytest.param(case, text.encode("utf-8"), id=f"{case['case']}:payload{i}")


@pytest.mark.parametrize("case,data", list(items()))
def test_each_listed_disagreement_is_real(case, data):
    kind, _, message = theirs(data)
    assert kind == case["reference"], "python-idmefv2 no longer does this: update the list"
    mine, pointers = ours(data)
    assert mine == case["ours"]
    if "pointer" in case:
        assert case["pointer"] in pointers
    if case["case"] == "duplicate-member":
        # json.loads keeps the last of two members: so did python-idmefv2.
        assert message == json.loads(data)


@pytest.mark.parametrize("name", [n for n in ALL if n not in LISTED])
def test_same_verdict_as_python_idmefv2_everywhere_else(name):
    data = (FIXTURES / name).read_bytes()
    kind, where, _ = theirs(data)
    mine, pointers = ours(data)
    assert mine == kind
    if kind == "ValidationError":
        # python-idmefv2 reports one failure (jsonschema's best match); it
        # is among ours.
        assert where in pointers


def test_every_listed_fixture_exists():
    assert LISTED <= set(ALL)


def test_the_readme_lists_every_case():
    readme = (ROOT / "python" / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"`{case['case']}`" in readme, case["case"]


def test_nan_written_by_python_idmefv2_serialize_is_refused_here():
    base = json.loads((FIXTURES / "valid" / "minimal.json").read_bytes())
    theirs_message = reference.Message()
    theirs_message.update(base, Confidence=math.nan)
    encoded = theirs_message.serialize("application/json")
    assert b"NaN" in bytes(encoded)
    reference.Message.unserialize(encoded)

    mine = idmefv2_rs.Message(base, Confidence=math.nan)
    for call in (mine.validate, lambda: mine.serialize("application/json")):
        with pytest.raises(idmefv2_rs.ValidationError) as caught:
            call()
        assert [v.pointer for v in caught.value.violations] == ["/Confidence"]
    with pytest.raises(idmefv2_rs.SerializationError):
        idmefv2_rs.Message.unserialize(idmefv2_rs.SerializedMessage("application/json", bytes(encoded)))
