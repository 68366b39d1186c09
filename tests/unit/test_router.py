"""Fluent Bit's Match globs and Match_Regex."""

import pytest

from shipper.engine.router import matcher


@pytest.mark.parametrize(
    "pattern,tag,expected",
    [
        ("*", "anything.at.all", True),
        ("kube.*", "kube.var.log.containers.a_b_c.log", True),
        ("kube.*", "kube", False),
        ("kube.*", "app.kube.x", False),
        ("*.log", "kube.var.a.log", True),
        ("app", "app", True),
        ("app", "app.x", False),
        ("a*c", "a.b.c", True),
        ("a.b", "axb", False),  # '.' is literal
        ("a?", "ab", False),  # only '*' is special
        ("a?", "a?", True),
    ],
)
def test_match_glob(pattern, tag, expected):
    assert matcher(pattern, None)(tag) is expected


def test_match_regex_is_anchored_at_the_start_only():
    m = matcher(None, r"kube\.var\..*containers")
    assert m("kube.var.log.containers.x")
    assert not m("x.kube.var.log.containers")


def test_match_regex_wins_over_match():
    assert matcher("nothing", "app.*")("app.1")


def test_no_match_matches_nothing():
    assert not matcher(None, None)("anything")
