"""``Decode_Field`` / ``Decode_Field_As``: decode a parsed field again.

``Decode_Field_As TYPE KEY [ACTION]`` replaces KEY's value with the decoded
one; ``Decode_Field TYPE KEY [ACTION]`` keeps KEY and, when the decoded value
is a map, merges its keys into the record (a clash ends last-wins at the last
position, golden case 19).  TYPE is ``json`` (only JSON objects count as
decoded), ``escaped`` (``\\n``, ``\\t``, ``\\"`` ...), ``escaped_utf8`` (also
``\\uXXXX``) or ``mysql_quoted``.  ACTION ``try_next`` tries the key's next
rule when this one fails; ``do_next`` runs the next rule on this one's
output when it succeeds; without an action the key's rules stop here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from shipper.errors import ConfigError
from shipper.jsonfmt import too_deep

_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "a": "\a", "v": "\v", '"': '"', "\\": "\\", "/": "/", "'": "'"}
_FAILED = object()


def unescape(text: str, utf8: bool) -> str:
    """Undo backslash escapes; ``\\uXXXX`` only when ``utf8`` (surrogate pairs joined)."""
    if "\\" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) == 5:
            return chr(int(code[1:], 16)) if utf8 else match.group()
        return _SIMPLE.get(code, match.group())

    result = _ESCAPE.sub(replace, text)
    if utf8 and any("\ud800" <= c <= "\udfff" for c in result):
        result = result.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return result


def _json(value: str) -> Any:
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError:
        return _FAILED
    return decoded if isinstance(decoded, dict) and not too_deep(value, decoded) else _FAILED


def _mysql_quoted(value: str) -> Any:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return unescape(value[1:-1], utf8=False)
    return _FAILED


DECODERS = {
    "json": _json,
    "escaped": lambda value: unescape(value, utf8=False),
    "escaped_utf8": lambda value: unescape(value, utf8=True),
    "mysql_quoted": _mysql_quoted,
}
ACTIONS = ("try_next", "do_next")


@dataclass(frozen=True, slots=True)
class DecodeRule:
    """One ``Decode_Field[_As]`` line."""

    key: str
    decoder: str
    replace: bool
    action: str | None


def parse_rule(value: str, replace: bool) -> DecodeRule:
    """``json log do_next`` -> DecodeRule; raises ConfigError when malformed."""
    option = "Decode_Field_As" if replace else "Decode_Field"
    parts = value.split()
    if len(parts) not in (2, 3):
        raise ConfigError(f"{option}: expected 'TYPE KEY [try_next|do_next]', got {value!r}")
    decoder = parts[0].lower()
    if decoder not in DECODERS:
        raise ConfigError(f"{option}: unknown decoder {parts[0]!r} (json, escaped, escaped_utf8, mysql_quoted)")
    action = parts[2].lower() if len(parts) == 3 else None
    if action is not None and action not in ACTIONS:
        raise ConfigError(f"{option}: unknown action {parts[2]!r} (try_next, do_next)")
    return DecodeRule(parts[1], decoder, replace, action)


def apply_decoders(record: dict[str, Any], rules: dict[str, list[DecodeRule]]) -> None:
    """Run each key's decode rules on ``record`` in place."""
    for key, key_rules in rules.items():
        value = record.get(key)
        if type(value) is not str:
            continue
        for rule in key_rules:
            decoded = DECODERS[rule.decoder](value)
            if decoded is _FAILED:
                if rule.action == "try_next":
                    continue
                break
            if rule.replace:
                record[key] = decoded
            elif isinstance(decoded, dict):
                for inner_key, inner_value in decoded.items():
                    record.pop(inner_key, None)
                    record[inner_key] = inner_value
            if rule.action != "do_next" or type(decoded) is not str:
                break
            value = decoded
