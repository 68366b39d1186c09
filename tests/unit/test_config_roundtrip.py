"""Property tests: whatever the classic reader accepts, printed back and read again, is the same config."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from shipper.config.loader import load_config
from shipper.config.model import FILTER, INPUT, MULTILINE_PARSER, OUTPUT, PARSER, SERVICE, ConfigDocument, Section
from shipper.config.reader import PARSER_KINDS, PIPELINE_KINDS
from shipper.config.render import render_classic
from shipper.errors import Location
from shipper.options import Property

VARIABLES = ("V0", "V1", "V2")
KEYS = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12)
# Printable text on one line (a few non-ASCII characters too); "${" is excluded because
# classic has no way to write it literally.
VALUES = (
    st.text(string.printable.replace("\n", "").replace("\r", "").replace("\x0b", "").replace("\x0c", "") + "é漢\u00a0", min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda v: v and "${" not in v and not v.endswith("$"))
)
SET_VALUES = VALUES.filter(lambda v: not {"$", "{", "}", "="} & set(v))


def shape(document: ConfigDocument) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(s.kind, [(p.key, p.value) for p in s.properties]) for s in document.sections]


def reread(document: ConfigDocument) -> ConfigDocument:
    """Render the document as a main file plus a parsers file and read both back."""
    with tempfile.TemporaryDirectory() as tmp:
        main, parsers = Path(tmp) / "main.conf", Path(tmp) / "parsers.conf"
        main.write_text(render_classic(document, PIPELINE_KINDS), encoding="utf-8")
        parsers.write_text(render_classic(ConfigDocument(sections=document.sections), PARSER_KINDS), encoding="utf-8")
        return load_config(str(main), [str(parsers)], environ={})


@st.composite
def documents(draw) -> ConfigDocument:
    """Documents as a reader could produce them: pipeline sections, then parser sections."""
    here = Location("<generated>", 1)
    kinds = draw(st.lists(st.sampled_from([SERVICE, INPUT, FILTER, OUTPUT]), max_size=5))
    kinds += draw(st.lists(st.sampled_from([PARSER, MULTILINE_PARSER]), max_size=2))
    sections = [
        Section(kind, [Property(k, v, here) for k, v in draw(st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=5))], here)
        for kind in kinds
    ]
    variables = draw(st.dictionaries(st.sampled_from(VARIABLES), SET_VALUES, max_size=3))
    return ConfigDocument(sections=sections, variables=variables)


@settings(max_examples=100, deadline=None)
@given(documents())
def test_rendered_documents_read_back_identically(document):
    again = reread(document)
    assert again.errors == []
    assert shape(again) == shape(document)
    assert again.variables == document.variables


@st.composite
def classic_texts(draw) -> str:
    """Classic text with random spacing, comments, blank lines, @SET, ${VAR}, and sometimes a wrong indent."""
    indent = draw(st.sampled_from(["    ", "  ", "\t", " "]))
    lines = [f"@SET {name}={draw(SET_VALUES)}" for name in VARIABLES]
    for _ in range(draw(st.integers(0, 6))):
        header = draw(st.sampled_from(["SERVICE", "INPUT", "inputs", "Filter", "OUTPUT", "outputs"]))
        lines.append(f"[{header}]" + draw(st.sampled_from(["", "  # trailing text is ignored"])))
        for _ in range(draw(st.integers(0, 4))):
            line_indent = draw(st.sampled_from([indent] * 8 + [indent * 2, " " * 3]))
            value = draw(VALUES)
            if draw(st.booleans()):
                value = f"{value} ${{{draw(st.sampled_from(VARIABLES))}}}"
            separator = draw(st.sampled_from([" ", "   ", "\t"]))
            lines.append(f"{line_indent}{draw(KEYS)}{separator}{value}{draw(st.sampled_from(['', '  ']))}")
            lines.extend(draw(st.lists(st.sampled_from(["", "# comment", f"{indent}# comment", indent]), max_size=1)))
    order = draw(st.permutations(range(len(VARIABLES))))
    return "\n".join([lines[i] for i in order] + lines[len(VARIABLES) :]) + "\n"


@settings(max_examples=100, deadline=None)
@given(classic_texts())
def test_any_accepted_classic_text_round_trips(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "main.conf"
        path.write_text(text, encoding="utf-8")
        first = load_config(str(path), environ={})
    if first.errors:
        assert all(e.location is not None and e.location.line > 0 for e in first.errors)
        return
    again = reread(first)
    assert again.errors == []
    assert shape(again) == shape(first)
    assert again.variables == first.variables


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["main.conf", "main.yaml", "manifest.yaml"]),
    st.lists(
        st.one_of(
            st.text(string.printable, max_size=40),
            st.sampled_from(["[INPUT]", "    Name dummy", "kind: ConfigMap", "data:", "  fluent-bit.conf: |", "- x", "@INCLUDE *"]),
        ),
        max_size=12,
    ),
)
def test_arbitrary_text_never_crashes_the_readers(name, lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text("\n".join(lines), encoding="utf-8")
        document = load_config(str(path), environ={})
    assert all(e.location is not None for e in document.errors)
