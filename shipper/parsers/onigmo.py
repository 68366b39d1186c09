"""Translate Fluent Bit's Onigmo (Ruby syntax) regexes to Python's ``re``.

Fluent Bit compiles every regex (parsers, grep, modify conditions,
rewrite_tag rules) with Onigmo in Ruby syntax.  Most of it is Python syntax
already; :func:`compile_onigmo` rewrites what differs:

- ``/pattern/flags`` with ``i`` (ignore case), ``m`` (dot matches newline —
  Ruby's ``m`` is Python's ``s``) and ``x`` (extended);
- named groups ``(?<name>..)`` / ``(?'name'..)`` and ``\\k<name>`` backrefs;
- inline flags ``(?mi-x)`` anywhere (Python only allows them at the start, so
  they become a scoped group up to the end of the enclosing group);
- ``\\h``/``\\H`` (hex digits), ``\\A``/``\\z``/``\\Z``, ``\\e``, ``\\x{HHHH}``,
  ``\\R``, POSIX brackets ``[[:alpha:]]``.

``^``/``$`` are always line anchors in Ruby, and ``\\d \\w \\s`` are ASCII, so
patterns compile with ``re.MULTILINE | re.ASCII``.  Lookahead and (fixed-width)
lookbehind, atomic groups and possessive quantifiers work as they are.  What
Python cannot express (variable-width lookbehind, ``\\p{..}``, ``\\G``,
subexpression calls, absent operator, class intersections) raises
:class:`RegexError` with a message saying what and why.
"""

from __future__ import annotations

import re
import warnings

_FLAGS = {"i": "i", "m": "s", "x": "x"}
_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9a-fA-F",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
    "ascii": r"\x00-\x7f",
}
_ESCAPES_OUTSIDE = {
    "h": "[0-9a-fA-F]",
    "H": "[^0-9a-fA-F]",
    "A": r"\A",
    "z": r"\Z",
    "Z": r"(?=\n?\Z)",
    "e": r"\x1b",
    "R": r"(?:\r\n|[\n\v\f\r\x85\u2028\u2029])",
}
_UNSUPPORTED_ESCAPES = {
    "G": "\\G (match start anchor)",
    "g": "\\g<..> subexpression calls",
    "p": "\\p{..} Unicode properties",
    "P": "\\P{..} Unicode properties",
    "X": "\\X extended grapheme clusters",
    "K": "\\K (keep)",
    "y": "\\y grapheme boundaries",
    "Y": "\\Y grapheme boundaries",
    "O": "\\O (true anychar)",
}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RegexError(ValueError):
    """An Onigmo regex that Python's ``re`` cannot express, or a malformed one."""


def split_delimited(text: str) -> tuple[str, str]:
    """``/pattern/flags`` -> (pattern, flags); anything else is returned as it is."""
    match = re.fullmatch(r"/(.*)/([imxo]*)", text.strip(), re.DOTALL)
    if match:
        return match.group(1), match.group(2).replace("o", "")
    return text, ""


class _Translator:
    """One pass over an Onigmo pattern, emitting the Python equivalent."""

    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        #: per open group: how many implicit ``)`` inline flags opened inside it
        self.pending: list[int] = [0]
        self.names: set[str] = set()

    def fail(self, what: str) -> RegexError:
        return RegexError(f"{what} at position {self.pos} is not supported by Python's re")

    def run(self) -> str:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "\\":
                self.out.append(self.escape(in_class=False))
            elif char == "[":
                self.out.append(self.char_class())
            elif char == "(":
                self.open_group()
            elif char == ")":
                self.out.append(")" * self.pending.pop() + ")")
                if not self.pending:
                    raise RegexError(f"unbalanced ')' at position {self.pos}")
                self.pos += 1
            else:
                self.out.append(char)
                self.pos += 1
        self.out.append(")" * self.pending[-1])
        return "".join(self.out)

    def escape(self, in_class: bool) -> str:
        src = self.src
        if self.pos + 1 >= len(src):
            raise RegexError("pattern ends with a lone backslash")
        char = src[self.pos + 1]
        self.pos += 2
        if char in _UNSUPPORTED_ESCAPES:
            raise self.fail(_UNSUPPORTED_ESCAPES[char])
        if char == "h" and in_class:
            return "0-9a-fA-F"
        if char in _ESCAPES_OUTSIDE and not in_class:
            return _ESCAPES_OUTSIDE[char]
        if char == "e":
            return r"\x1b"
        if char == "k":
            match = re.compile(r"<([^>]*)>|'([^']*)'").match(src, self.pos)
            if not match:
                raise self.fail("\\k without <name>")
            self.pos = match.end()
            name = match.group(1) if match.group(1) is not None else match.group(2)
            return f"\\{name}" if name.isdigit() else f"(?P={name})"
        if char == "x" and self.pos < len(src) and src[self.pos] == "{":
            end = src.find("}", self.pos)
            digits = src[self.pos + 1 : end] if end > 0 else ""
            if not re.fullmatch(r"[0-9a-fA-F]{1,8}", digits):
                raise self.fail("malformed \\x{..}")
            self.pos = end + 1
            return f"\\U{int(digits, 16):08x}"
        return "\\" + char

    def char_class(self) -> str:
        src = self.src
        out = ["["]
        self.pos += 1
        if self.pos < len(src) and src[self.pos] == "^":
            out.append("^")
            self.pos += 1
        first = True
        while self.pos < len(src):
            char = src[self.pos]
            if char == "]" and not first:
                self.pos += 1
                out.append("]")
                return "".join(out)
            first = False
            if char == "\\":
                out.append(self.escape(in_class=True))
            elif src.startswith("[:", self.pos):
                end = src.find(":]", self.pos + 2)
                name = src[self.pos + 2 : end] if end > 0 else ""
                if name not in _POSIX:
                    raise self.fail(f"POSIX bracket [:{name}:]")
                out.append(_POSIX[name])
                self.pos = end + 2
            elif char == "[":
                raise self.fail("a nested character class")
            elif src.startswith("&&", self.pos):
                raise self.fail("character class intersection &&")
            elif char == "]":
                out.append(r"\]")
                self.pos += 1
            else:
                out.append(char)
                self.pos += 1
        raise RegexError("unterminated character class '['")

    def open_group(self) -> None:
        src = self.src
        rest = src[self.pos + 1 : self.pos + 3]
        if not rest.startswith("?"):
            self.out.append("(")
            self.pos += 1
            self.pending.append(0)
            return
        if rest in ("?<", "?'") and src[self.pos + 3 : self.pos + 4] not in ("=", "!"):
            close = ">" if rest == "?<" else "'"
            end = src.find(close, self.pos + 3)
            name = src[self.pos + 3 : end] if end > 0 else ""
            if not _NAME_RE.fullmatch(name):
                raise RegexError(f"group name {name!r} at position {self.pos} must be letters, digits and _")
            if name in self.names:
                raise self.fail(f"the repeated group name {name!r}")
            self.names.add(name)
            self.out.append(f"(?P<{name}>")
            self.pos = end + 1
            self.pending.append(0)
            return
        if rest in ("?:", "?=", "?!", "?>", "?<"):
            length = 4 if rest == "?<" else 3
            self.out.append(src[self.pos : self.pos + length])
            self.pos += length
            self.pending.append(0)
            return
        if rest == "?#":
            end = src.find(")", self.pos)
            if end < 0:
                raise RegexError("unterminated comment group (?#")
            self.pos = end + 1
            return
        match = re.compile(r"\(\?([imx]*)(?:-([imx]*))?([:)])").match(src, self.pos)
        if not match:
            raise self.fail(f"the group syntax '({rest}'")
        on = "".join(_FLAGS[f] for f in match.group(1))
        off = "".join(_FLAGS[f] for f in match.group(2) or "")
        flags = on + (f"-{off}" if off else "")
        self.pos = match.end()
        if match.group(3) == ":":
            self.out.append(f"(?{flags}:" if flags else "(?:")
            self.pending.append(0)
        elif flags:
            # "(?i)" applies to the rest of the enclosing group: open a scoped group
            # and close it where the enclosing group ends.
            self.out.append(f"(?{flags}:")
            self.pending[-1] += 1


def translate(pattern: str, delimited: bool = True) -> tuple[str, int]:
    """Onigmo source (``/re/flags`` too when ``delimited``) -> (Python pattern, re flags)."""
    body, flag_letters = split_delimited(pattern) if delimited else (pattern, "")
    flags = re.MULTILINE | re.ASCII
    if "i" in flag_letters:
        flags |= re.IGNORECASE
    if "m" in flag_letters:
        flags |= re.DOTALL
    if "x" in flag_letters:
        flags |= re.VERBOSE
    return _Translator(body).run(), flags


def compile_onigmo(pattern: str, delimited: bool = True, line_anchors: bool = True) -> re.Pattern[str]:
    """Compile a Fluent Bit regex; raises :class:`RegexError` when Python can't express it.

    ``delimited`` reads ``/re/flags``; options such as ``Tag_Regex`` take the
    bare pattern, where slashes are literal.  Without ``line_anchors`` ``^``
    matches only at the start: multiline rules see one line at a time, and
    Python's multiline ``^`` would also match after a trailing newline, where
    Onigmo's does not (``/^[\r\n]*$/`` would then match every line).
    """
    python, flags = translate(pattern, delimited)
    if not line_anchors:
        flags &= ~re.MULTILINE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(python, flags)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise RegexError(f"Python's re cannot compile it: {exc}") from None
