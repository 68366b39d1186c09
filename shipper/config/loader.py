"""Read any configuration shipper accepts into one :class:`ConfigDocument`.

:func:`load_config` detects the format (classic ``.conf``, Fluent Bit YAML,
or a Kubernetes manifest holding a ConfigMap, Fargate's included), reads the
``Parsers_File`` entries of ``[SERVICE]`` and the extra parsers files given
with ``-R``, and expands ``${VAR}``.  Problems in the configuration never
raise: they go to ``document.errors`` with file and line, so ``shipper
check`` can list them all.  Only a missing main file raises.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from shipper.config.configmap import looks_like_manifest, read_manifest
from shipper.config.fargate import load_fargate
from shipper.config.files import Files
from shipper.config.model import ConfigDocument
from shipper.config.reader import Reader, Role
from shipper.config.variables import expand_sections
from shipper.errors import ConfigError, ConfigErrors, Location

PARSERS_FILE_KEY = "parsers_file"


def load_config(
    path: str, extra_parsers_files: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> ConfigDocument:
    """Read ``path`` (and everything it names) into a document; raises ConfigErrors only if ``path`` is unreadable."""
    env = os.environ if environ is None else environ
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigErrors([ConfigError(f"cannot read configuration: {exc.strerror or exc}", Location(path))]) from None
    document = ConfigDocument()
    files, main = _read_main(path, text, document, env)
    if document.fargate is None:
        expand_sections(document, document.sections, env)
    seen = _read_parsers_files(document, files, main, env)
    for extra in extra_parsers_files:
        if not os.path.isfile(extra):
            document.errors.append(ConfigError(f"parsers file {extra} (-R) not found", Location(extra)))
        elif os.path.realpath(extra) not in seen:
            seen.add(os.path.realpath(extra))
            _read_parsers(document, Files(), extra, None, env)
    return document


def _read_main(path: str, text: str, document: ConfigDocument, environ: Mapping[str, str]) -> tuple[Files, str]:
    """Read the main file (or the ConfigMap's entry point); returns the Files in use and the main file's name."""
    if not (path.lower().endswith((".yaml", ".yml")) and looks_like_manifest(text)):
        files = Files()
        Reader(files, document, path, Role.MAIN).read(path)
        return files, path
    manifest = read_manifest(path, text, document.errors)
    configmap = manifest.choose()
    if configmap is None:
        if not document.errors:
            document.errors.append(
                ConfigError(
                    "no ConfigMap here holds fluent-bit.conf or fluent-bit.yaml, and none is the Fargate "
                    f"aws-observability/aws-logging one (ConfigMaps found: {manifest.describe()})",
                    Location(path),
                )
            )
        return Files(), path
    files = Files(path, configmap.data)
    document.files.append(path)
    if configmap.is_fargate:
        load_fargate(manifest, configmap, files, document, environ)
        return files, files.virtual_name("output.conf")
    main = files.virtual_name(str(configmap.entry_point))
    Reader(files, document, main, Role.MAIN).read(main)
    return files, main


def _read_parsers_files(document: ConfigDocument, files: Files, main: str, environ: Mapping[str, str]) -> set[str]:
    """Every ``Parsers_File`` of ``[SERVICE]``: the working directory first, then the main config's directory."""
    seen: set[str] = set()
    props = [p for s in document.service for p in s.properties if p.key.lower() == PARSERS_FILE_KEY]
    for prop in props:
        name = files.find(prop.value, ["", files.directory(main)])
        if name is None:
            document.errors.append(
                ConfigError(
                    f"Parsers_File {prop.value}: file not found (looked in the working directory and "
                    f"{os.path.abspath(files.directory(main)) or '.'})",
                    prop.location,
                )
            )
        elif files.identity(name) in seen:
            document.warnings.append(ConfigError(f"Parsers_File {prop.value} is listed twice; read once", prop.location))
        else:
            seen.add(files.identity(name))
            _read_parsers(document, files, name, prop.location, environ)
    return seen


def _read_parsers(
    document: ConfigDocument, files: Files, name: str, included_from: Location | None, environ: Mapping[str, str]
) -> None:
    start = len(document.sections)
    Reader(files, document, name, Role.PARSERS).read(name, included_from)
    expand_sections(document, document.sections[start:], environ)
