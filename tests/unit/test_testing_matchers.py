"""Payload matchers of shipper test: what matches, and the diff shown when it does not."""

from __future__ import annotations

import re

from shipper.accessor import compile_accessor
from shipper.testing.matchers import check_payload, is_subset, mismatched_keys
from shipper.testing.spec import PayloadMatch

PAYLOAD = '{"level":"error","n":1,"kubernetes":{"labels":{"team":"a"},"pod_name":"web-1"},"tags":["x","y"]}'


def test_contains_is_a_recursive_subset() -> None:
    assert is_subset({"kubernetes": {"labels": {"team": "a"}}}, {"kubernetes": {"labels": {"team": "a", "x": 1}}})
    assert not is_subset({"kubernetes": {"labels": {"team": "b"}}}, {"kubernetes": {"labels": {"team": "a"}}})
    assert is_subset({"n": 1.0}, {"n": 1}) and not is_subset({"n": True}, {"n": 1})
    assert not is_subset({"tags": ["x"]}, {"tags": ["x", "y"]})  # lists are compared whole, item by item
    assert not is_subset({"n": "1"}, {"n": 1})


def test_a_matching_payload_has_no_problems() -> None:
    match = PayloadMatch(
        contains={"level": "error", "kubernetes": {"pod_name": "web-1"}}, has_contains=True,
        regex=re.compile(r'"team":"a"'), absent=(("log", compile_accessor("log")),),
    )
    assert check_payload(match, PAYLOAD) == []


def test_contains_shows_a_diff_of_only_the_keys_it_names() -> None:
    match = PayloadMatch(contains={"level": "warn", "kubernetes": {"pod_name": "web-1"}}, has_contains=True)
    problems = check_payload(match, PAYLOAD)
    assert problems[0] == "payload differs (contains):"
    assert '-  "level": "warn"' in problems and '+  "level": "error"' in problems
    assert not any("team" in line for line in problems)  # labels were not asked about
    assert mismatched_keys(match, PAYLOAD) == {"level"}


def test_equals_compares_structure_or_text() -> None:
    assert check_payload(PayloadMatch(equals={"a": 1}, has_equals=True), '{"a":1}') == []
    problems = check_payload(PayloadMatch(equals={"a": 1}, has_equals=True), '{"a":1,"b":2}')
    assert '+  "b": 2' in problems
    assert mismatched_keys(PayloadMatch(equals={"a": 1}, has_equals=True), '{"a":1,"b":2}') == {"b"}
    assert check_payload(PayloadMatch(equals="plain text", has_equals=True), "plain text") == []
    assert check_payload(PayloadMatch(equals="plain text", has_equals=True), "other")[0] == "payload differs (equals):"


def test_absent_names_the_key_found_and_its_value() -> None:
    match = PayloadMatch(absent=(("$kubernetes['labels']", compile_accessor("$kubernetes['labels']")),))
    assert check_payload(match, PAYLOAD) == ["payload has \"$kubernetes['labels']\" (expected absent): {\"team\":\"a\"}"]
    assert mismatched_keys(match, PAYLOAD) == {"kubernetes"}


def test_structure_matchers_on_a_text_payload_say_so() -> None:
    problems = check_payload(PayloadMatch(contains={"a": 1}, has_contains=True), "not json")
    assert problems == ["payload is not JSON, so it cannot contain a structure: 'not json'"]
    assert check_payload(PayloadMatch(regex=re.compile("^not")), "not json") == []
