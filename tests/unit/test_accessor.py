"""Record accessor and templates (Fluent Bit's record accessor syntax)."""

from __future__ import annotations

import re

import pytest

from shipper.accessor import MISSING, compile_accessor, compile_template, split_words

RECORD = {
    "log": "hello",
    "n": 5,
    "kubernetes": {"namespace_name": "shop", "labels": {"app": "web", "app.kubernetes.io/name": "w"}},
    "list": [{"a": 1}, "two"],
    "flag": True,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("log", "hello"),
        ("$log", "hello"),
        ("$n", 5),
        ("$kubernetes['namespace_name']", "shop"),
        ('$kubernetes["labels"]["app"]', "web"),
        ("$kubernetes['labels']['app.kubernetes.io/name']", "w"),
        ("kubernetes['labels']['app']", "web"),
        ("$list[0]['a']", 1),
        ("$list[1]", "two"),
        ("$list[-1]", "two"),
        ("$list[2]", MISSING),
        ("$missing", MISSING),
        ("$kubernetes['nope']", MISSING),
        ("$log['x']", MISSING),
        ("$n[0]", MISSING),
    ],
)
def test_accessor_get(text: str, expected: object) -> None:
    assert compile_accessor(text).get(RECORD) == expected or (expected is MISSING and compile_accessor(text).get(RECORD) is MISSING)


def test_accessor_none_value_is_not_missing() -> None:
    assert compile_accessor("$a").get({"a": None}) is None


def test_key_with_odd_brackets_is_literal() -> None:
    assert compile_accessor("weird[key").get({"weird[key": 1}) == 1


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("static.tag", "static.tag"),
        ("$TAG", "app.web.v1"),
        ("from.$TAG.new", "from.app.web.v1.new"),
        ("$TAG[0]-$TAG[2]", "app-v1"),
        ("$TAG[9]x", "x"),
        ("ns.$kubernetes['namespace_name'].$kubernetes['labels']['app']", "ns.shop.web"),
        ("$0/$1/$2", "error: x/error/"),
        ("n=$n flag=$flag", "n=5 flag=true"),
        ("cost $ 5", "cost $ 5"),
        ("$missing.end", ".end"),
        ("$list", '[{"a":1},"two"]'),
    ],
)
def test_template_render(template: str, expected: str) -> None:
    captures = re.search(r"(error): x(z)?", "error: x")  # $0 is the whole match, $2 did not take part
    assert compile_template(template).render(RECORD, "app.web.v1", captures) == expected


def test_render_strict_refuses_missing_and_structured_values() -> None:
    assert compile_template("g-$kubernetes['namespace_name']").render_strict(RECORD) == "g-shop"
    assert compile_template("g-$nope").render_strict(RECORD) is None
    assert compile_template("g-$kubernetes").render_strict(RECORD) is None
    assert compile_template("plain").static == "plain"
    assert compile_template("$TAG").static is None


def test_template_accessors_are_listed() -> None:
    assert [a.text for a in compile_template("$a.$b['c'].$TAG").accessors] == ["$a", "$b['c']"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a b", ["a", "b"]),
        ('n   "two words, quoted"', ["n", "two words, quoted"]),
        (r'k "say \"hi\""', ["k", 'say "hi"']),
        ("  spaced   out  ", ["spaced", "out"]),
    ],
)
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words
