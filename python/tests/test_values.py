"""What a new user reaches for first (issue 29): the value lists with
their meanings, errors naming the nearest values, a fresh ID and the
current time that pass the strict checks."""
import re

import pytest

import idmefv2_rs
from idmefv2_rs import Message, ValidationError


def test_value_lists_give_every_value_with_its_meaning() -> None:
    lists = idmefv2_rs.value_lists()
    assert list(lists["Priority"]) == ["Unknown", "Info", "Low", "Medium", "High"]
    assert all(isinstance(text, str) and text for text in lists["Priority"].values())
    assert len(lists["AnalyzerCategory"]) > 8
    # Each is a fresh dict: changing one changes nothing else.
    lists["Priority"].clear()
    assert idmefv2_rs.value_lists()["Priority"]


def test_a_long_list_names_the_nearest_values() -> None:
    message = Message(
        {
            "Version": "2.D.V08",
            "ID": idmefv2_rs.new_id(),
            "CreateTime": idmefv2_rs.now(),
            "Analyzer": {"Name": "ids", "Category": ["Firewall"]},
        }
    )
    with pytest.raises(ValidationError) as caught:
        message.validate()
    reason = caught.value.violations[0].reason
    named = re.findall(r"`([^`]+)`", reason)
    assert named, reason
    assert all(n in idmefv2_rs.value_lists()["AnalyzerCategory"] for n in named)


def test_a_short_list_names_its_values() -> None:
    message = Message(
        {
            "Version": "2.D.V08",
            "ID": idmefv2_rs.new_id(),
            "CreateTime": idmefv2_rs.now(),
            "Priority": "Urgent",
            "Analyzer": {"Name": "ids"},
        }
    )
    with pytest.raises(ValidationError) as caught:
        message.validate()
    for value in idmefv2_rs.value_lists()["Priority"]:
        assert f"`{value}`" in caught.value.violations[0].reason


def test_fresh_id_and_current_time_pass_the_strict_checks() -> None:
    first, second = idmefv2_rs.new_id(), idmefv2_rs.new_id()
    assert first != second
    message = Message(
        {
            "Version": "2.D.V08",
            "ID": first,
            "CreateTime": idmefv2_rs.now(),
            "Analyzer": {"Name": "ids", "ID": second},
        }
    )
    message.validate(strict=True)
    assert idmefv2_rs.now().endswith("Z")
