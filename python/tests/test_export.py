"""Message.to_ocsf() and Message.to_stix(): the crate's exports, from
Python (the mapping itself is tested in tests/export.rs)."""
import json

import pytest

from idmefv2_rs import Message, ValidationError

from conftest import FIXTURES


def load(name: str) -> Message:
    return Message(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def test_ocsf_finding() -> None:
    message = load("valid/ids-ssh-bruteforce-tcp.json")
    finding = message.to_ocsf()
    assert isinstance(finding, dict)
    assert (finding["class_uid"], finding["type_uid"], finding["activity_id"]) == (2004, 200401, 1)
    assert finding["finding_info"]["uid"] == message["ID"]
    assert finding["metadata"]["version"] == "1.5.0"
    # raw_data is the message: nothing is lost.
    assert json.loads(finding["raw_data"]) == message


def test_stix_bundle_is_the_same_every_time() -> None:
    message = load("valid/ids-ssh-bruteforce-tcp.json")
    bundle = message.to_stix()
    assert bundle["type"] == "bundle"
    incident = [o for o in bundle["objects"] if o["type"] == "incident"]
    assert incident[0]["external_references"][0]["external_id"] == message["ID"]
    assert json.dumps(bundle) == json.dumps(message.to_stix())


def test_older_draft_is_upgraded_first() -> None:
    message = load("drafts/valid/v04-converter.json")
    finding = message.to_ocsf()
    assert finding["class_uid"] == 2004
    assert json.loads(finding["raw_data"])["Version"] == "2.D.V04"


@pytest.mark.parametrize("export", [Message.to_ocsf, Message.to_stix])
def test_refusal_names_the_pointer(export) -> None:  # type: ignore[no-untyped-def]
    message = load("valid/timestamp-leap-second.json")
    with pytest.raises(ValidationError) as caught:
        export(message)
    violation = caught.value.violations[0]
    assert violation.pointer == "/CreateTime"
    assert violation.reason.startswith("cannot export: a leap second")


def test_invalid_message_is_refused() -> None:
    with pytest.raises(ValidationError):
        Message({"Version": "2.D.V08"}).to_ocsf()
