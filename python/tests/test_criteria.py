"""IDMEF criteria from Python: ``Criteria`` compiled once, and
``Message.matches``; the same language and decisions as the crate's
(tests/criteria.rs holds the table of every operator)."""
import pytest

import idmefv2_rs as idmefv2
from conftest import FIXTURES, load
from idmefv2_rs import Criteria, Message

SSH = load(FIXTURES / "valid" / "ids-ssh-bruteforce-tcp.json")
OLDER = load(FIXTURES / "drafts" / "valid" / "v04-converter.json")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Priority == Medium", True),
        ("Priority =* medium && Priority != medium", True),
        ('Description ~* "^repeated ssh"', True),
        ("Description !<> SSH", False),
        ("Confidence > 0.8 && Confidence <= 0.85", True),
        ("CreateTime == 2025-05-20T00:41:08+02:00", True),
        ("Source(*).IP in 198.51.100.0/24", True),
        ("Target(-1).Port(*) == (22 || 2222)", True),
        ("Attachment(*).Name", False),
        ("!(Priority == High) && Analyzer.Category(*) == NET.NIDS", True),
    ],
)
def test_operators(text, expected):
    message = Message(SSH)
    assert message.matches(text) is expected
    compiled = Criteria(text)
    assert compiled.matches(message) is expected
    assert message.matches(compiled) is expected
    assert Criteria(f"!({text})").matches(message) is (not expected)
    assert compiled.text == text and repr(compiled) == f"Criteria({text!r})"


def test_any_draft_and_plain_dicts():
    older = Message(OLDER)
    assert older.matches("Version == 2.D.V04 && Priority == Medium")
    assert Criteria("Analyzer.Name =* EDR").matches(dict(OLDER))
    assert not Criteria("Priority").matches({"Version": "2.D.V08"})


def test_refusals_carry_the_byte_position():
    with pytest.raises(ValueError, match=r"byte 20: .*`Port`"):
        Criteria("Priority == High && Source(*).Prot == 22")
    with pytest.raises(ValueError, match=r"byte 11: "):
        Message(SSH).matches("Confidence ~ x")
    with pytest.raises(ValueError, match="byte 14: invalid regular expression"):
        Criteria('Description ~ "a(b"')


def test_the_class_is_exported():
    assert "Criteria" in idmefv2.__all__ and idmefv2.Criteria is Criteria
