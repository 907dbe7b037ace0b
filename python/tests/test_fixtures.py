"""Every fixture of the repository, through the Python package: valid ones
are accepted whole and unchanged, invalid ones refused at the pointer
EXPECTED.tsv gives (the table the Rust tests use), older drafts validated by
their own schema and upgraded to the expected message and report."""
import json

import pytest

import idmefv2_rs as idmefv2
from conftest import FIXTURES, fixture_files, load, table

VALID = fixture_files("valid") + fixture_files("drafts/valid")
INVALID = table("invalid")
DRAFTS_INVALID = table("drafts/invalid")


def unserialize(data: bytes) -> idmefv2.Message:
    return idmefv2.Message.unserialize(idmefv2.SerializedMessage("application/json", data))


def pointers(error: idmefv2.ValidationError):
    return [v.pointer for v in error.violations]


def test_the_tables_name_every_file():
    assert sorted(INVALID) == [p.name for p in fixture_files("invalid")]
    assert sorted(DRAFTS_INVALID) == [p.stem for p in fixture_files("drafts/invalid")]


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_fixtures_are_accepted_and_kept_whole(path):
    data = path.read_bytes()
    original = json.loads(data)
    message = unserialize(data)
    assert type(message) is idmefv2.Message
    assert message == original
    assert list(message) == list(original), "member order"
    message.validate()
    idmefv2.Message(original).validate()

    encoded = message.serialize("application/json")
    assert encoded.get_content_type() == "application/json"
    assert json.loads(bytes(encoded)) == original
    assert unserialize(bytes(encoded)) == original


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_fixtures_are_refused_where_the_table_says(name):
    pointer, _why = INVALID[name]
    data = (FIXTURES / "invalid" / name).read_bytes()
    if pointer.startswith("line:"):
        with pytest.raises(idmefv2.SerializationError) as caught:
            unserialize(data)
        assert f"line {pointer[5:]}," in str(caught.value)
        return
    with pytest.raises(idmefv2.ValidationError) as caught:
        unserialize(data)
    assert pointer in pointers(caught.value), str(caught.value)

    # The same message built as a dict is refused at the same place, unless
    # json.loads cannot give it as one (a duplicate member is lost there).
    value = json.loads(data)
    if isinstance(value, dict) and not name.startswith("duplicate-"):
        with pytest.raises(idmefv2.ValidationError) as caught:
            idmefv2.Message(value).validate()
        assert pointer in pointers(caught.value), str(caught.value)


@pytest.mark.parametrize("stem", sorted(DRAFTS_INVALID))
def test_older_drafts_are_refused_by_their_own_schema(stem):
    pointer, keyword = DRAFTS_INVALID[stem]
    data = (FIXTURES / "drafts" / "invalid" / f"{stem}.json").read_bytes()
    for refuse in (
        lambda: unserialize(data),
        lambda: idmefv2.Message(json.loads(data)).validate(),
        lambda: idmefv2.Message(json.loads(data)).upgrade(),
    ):
        with pytest.raises(idmefv2.ValidationError) as caught:
            refuse()
        found = [(v.pointer, v.keyword) for v in caught.value.violations]
        assert found == [(pointer, keyword)]


@pytest.mark.parametrize("path", fixture_files("drafts/valid"), ids=lambda p: p.name)
def test_older_drafts_upgrade_to_the_expected_message_and_report(path):
    original = load(path)
    expected = load(path.parent.parent / "upgraded" / path.name)
    upgraded = idmefv2.Message(original).upgrade()
    assert upgraded.source == original["Version"] == expected["from"]
    assert type(upgraded.message) is idmefv2.Message
    assert upgraded.message["Version"] == "2.D.V08"
    upgraded.message.validate()

    report = [
        {
            "pointer": n.pointer,
            "kind": n.kind,
            "draft": n.draft,
            "reason": n.reason,
            "value": "<invented>" if n.kind == "invented" else n.value,
            "moved_to": n.moved_to,
        }
        for n in upgraded.report
    ]
    assert report == expected["report"]

    # The message, once the identifiers the upgrade made up are put in.
    want = expected["message"]
    for note in upgraded.report:
        if note.kind != "invented":
            continue
        *parents, last = [int(s) if s.isdigit() else s for s in note.pointer[1:].split("/")]
        slot = want
        for step in parents:
            slot = slot[step]
        assert slot[last] == "<invented>"
        slot[last] = note.value
    assert upgraded.message == want


def test_upgrade_to_the_draft_in_development():
    original = load(FIXTURES / "drafts" / "valid" / "v04-minimal.json")
    upgraded = idmefv2.Message(original).upgrade(to="2.D.V09-Dev")
    assert upgraded.message["Version"] == "2.D.V09-Dev"
    upgraded.message.validate()
    with pytest.raises(ValueError, match="2.D.V08, 2.D.V09-Dev"):
        idmefv2.Message(original).upgrade(to="2.D.V07")
