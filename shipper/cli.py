"""The ``shipper`` command: run, check, dry-run, test, tap, plugins.

Fluent Bit's own short flags work where they make sense (``-c``, ``-R``,
``-f``, ``-v``), and ``shipper -c FILE`` alone means ``shipper run -c FILE``
so images and scripts written for ``fluent-bit -c`` keep working.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from shipper import __version__, registry
from shipper.config.model import ConfigDocument
from shipper.errors import ConfigErrors, Location
from shipper.logging_setup import configure_logging
from shipper.options import Property, suggest
from shipper.pipeline import Pipeline, build
from shipper.plugin import DryRun, Plugin

EXIT_CONFIG = 2
#: what a shell reports for a process killed by SIGPIPE (128 + 13), which is what a C tool would get
EXIT_BROKEN_PIPE = 141


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", required=True, help="Fluent Bit config: classic, YAML, or a ConfigMap manifest")
    parser.add_argument("-R", "--parser", action="append", default=[], metavar="FILE", help="extra parsers file")
    parser.add_argument("--log-level", help="override [SERVICE] Log_Level")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipper", description="A Fluent Bit-compatible log shipper.")
    parser.add_argument("-V", "--version", action="version", version=f"shipper {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline as a daemon")
    _config_args(run)
    run.add_argument("-f", "--flush", type=float, help="override [SERVICE] Flush (seconds)")
    run.add_argument("--workdir", type=Path, help="change to this directory first (Fluent Bit's --workdir)")

    check = sub.add_parser("check", help="validate a config and print the resolved pipeline")
    _config_args(check)

    dry = sub.add_parser("dry-run", help="run the pipeline over a folder of logs and print what would be sent")
    _config_args(dry)
    dry.add_argument("--log-dir", required=True, type=Path, help="directory standing in for every tail Path")
    dry.add_argument(
        "--kube-meta-dir", type=Path,
        help="pod JSON files (<namespace>_<pod>.meta) for the kubernetes filter; overrides Kube_Meta_Preload_Cache_Dir",
    )
    dry.add_argument("--journal-dir", type=Path, help="journal directory standing in for every systemd input's journal")
    dry.add_argument(
        "--now", type=parse_now, metavar="TIME",
        help="judge time windows (CloudWatch's 14 days) as of TIME, RFC 3339 such as 2026-11-20T10:16:00Z; default: the clock",
    )
    dry.add_argument("--format", choices=("jsonl", "pretty"), default="jsonl")

    test = sub.add_parser("test", help="run a config's test cases through the real pipeline, with no network")
    _config_args(test)
    test.add_argument("tests", nargs="+", type=Path, metavar="TESTFILE", help="YAML file of test cases")
    test.add_argument("--junit", type=Path, metavar="FILE", help="also write the results as JUnit XML")

    tap = sub.add_parser("tap", help="print live records passing an input, filter or output of a running daemon")
    tap.add_argument("name", help="instance name as `shipper check` prints it (e.g. tail.0, grep.1) or its Alias")
    tap.add_argument("--url", default="http://127.0.0.1:2020", help="the daemon's monitoring server (HTTP_Server); default %(default)s")
    tap.add_argument("--match", default="*", metavar="GLOB", help="only records whose tag matches (Match syntax); default %(default)s")
    tap.add_argument("--limit", type=int, metavar="N", help="stop after N records (default: until interrupted)")
    tap.add_argument("--rate", type=float, default=10.0, metavar="R", help="sample at most R records a second; default %(default)s")

    plugins = sub.add_parser("plugins", help="list plugins, or document one plugin's options")
    plugins.add_argument("name", nargs="?", help="plugin name (e.g. tail, cloudwatch_logs)")
    plugins.add_argument("--markdown", action="store_true", help="print NAME's options as a Markdown table")
    return parser


def read_document(args: argparse.Namespace) -> ConfigDocument:
    """Read the config named on the command line, with command-line overrides applied."""
    from shipper.config.loader import load_config

    document: ConfigDocument = load_config(args.config, args.parser)
    overrides = []
    if getattr(args, "flush", None) is not None:
        overrides.append(Property("flush", str(args.flush), Location("<command line>")))
    if args.log_level:
        overrides.append(Property("log_level", args.log_level, Location("<command line>")))
    if overrides:
        from shipper.config.model import SERVICE, Section

        document.sections.append(Section(SERVICE, overrides, Location("<command line>")))
    return document


def load(args: argparse.Namespace, dry_run: DryRun | None = None) -> Pipeline:
    """Read and validate the config named on the command line."""
    return build(read_document(args), dry_run=dry_run)


def _report_errors(exc: ConfigErrors) -> int:
    for warning in exc.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in exc.errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"{len(exc.errors)} error(s) found", file=sys.stderr)
    return EXIT_CONFIG


def _describe(plugin: Plugin, keys: Sequence[str]) -> str:
    parts = [f"{k} {plugin.settings[k]}" for k in keys if plugin.settings.get(k) not in (None, "", [])]
    return f"  {plugin.instance_name:<24} " + "  ".join(parts)


def _summary(pipeline: Pipeline) -> str:
    doc = pipeline.document
    service = pipeline.context.service
    lines = [
        f"config: {doc.files[0] if doc.files else '?'} ({len(doc.files)} file(s))",
        f"service: flush {service['flush']:g}s, grace {service['grace']:g}s, log_level {service['log_level']}",
        "inputs:",
        *(_describe(p, ("tag", "path")) for p in pipeline.inputs),
        "filters:" if pipeline.filters else "filters: none",
        *(_describe(p, ("match", "match_regex")) for p in pipeline.filters),
        "outputs:",
        *(_describe(p, ("match", "match_regex")) for p in pipeline.outputs),
        f"parsers: {len(pipeline.context.parsers)}"
        + (f" ({', '.join(sorted(pipeline.context.parsers))})" if pipeline.context.parsers else ""),
    ]
    if doc.fargate is not None and doc.fargate.log_to_cloudwatch:
        # the private pipeline of flb_log_cw is built at run time; say where it sends
        lines.append(f"flb_log_cw: shipper's own log goes to CloudWatch Logs group {doc.fargate.log_group}")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        pipeline = load(args)
    except ConfigErrors as exc:
        return _report_errors(exc)
    for warning in pipeline.document.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(_summary(pipeline))
    print("configuration OK")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from shipper.daemon import Supervisor
    from shipper.inputs.tail.handles import raise_file_limit

    raise_file_limit()
    if args.workdir is not None:
        os.chdir(args.workdir)
    try:
        pipeline = load(args)
    except ConfigErrors as exc:
        return _report_errors(exc)
    supervisor = Supervisor(lambda: read_document(args), pipeline, "debug" if args.verbose else args.log_level)
    for warning in pipeline.document.warnings:
        logging.getLogger("shipper.config").warning("%s", warning)
    return asyncio.run(supervisor.run())


def parse_now(text: str) -> int:
    """``--now``: an RFC 3339 / ISO 8601 time (UTC when no offset is given), as nanoseconds since the epoch."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r}; use RFC 3339 such as 2026-11-20T10:16:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def cmd_dry_run(args: argparse.Namespace) -> int:
    from shipper.engine.dryrun import DryRunPrinter

    if not args.log_dir.is_dir():
        print(f"error: --log-dir {args.log_dir}: not a directory", file=sys.stderr)
        return EXIT_CONFIG
    try:
        pipeline = load(args, DryRun(log_dir=args.log_dir.resolve(), kube_meta_dir=args.kube_meta_dir, now_ns=args.now,
                                     journal_dir=args.journal_dir))
    except ConfigErrors as exc:
        return _report_errors(exc)
    configure_logging("debug" if args.verbose else args.log_level or "warn")
    from shipper.engine.core import Engine

    printer = DryRunPrinter(sys.stdout, args.format)
    code = asyncio.run(Engine(pipeline, printer=printer).run())
    sys.stdout.flush()
    print(printer.summary([o.instance_name for o in pipeline.outputs], args.now), file=sys.stderr)
    return code


def cmd_test(args: argparse.Namespace) -> int:
    from shipper.testing.report import write_junit, write_text
    from shipper.testing.runner import CaseRunner
    from shipper.testing.spec import SpecError, load_test_file

    try:
        document = read_document(args)
        build(document)  # report config errors once, as `check` does, rather than once per case
    except ConfigErrors as exc:
        return _report_errors(exc)
    files, problems = [], []
    for path in args.tests:
        try:
            files.append(load_test_file(path))
        except SpecError as exc:
            problems.append(str(exc))
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging("debug" if args.verbose else args.log_level or "error")
    runner = CaseRunner(document)
    results = [runner.run(file, case) for file in files for case in file.cases]
    write_text(results, sys.stdout)
    if args.junit is not None:
        write_junit(results, args.junit)
    return 0 if all(r.passed for r in results) else 1


def cmd_tap(args: argparse.Namespace) -> int:
    from shipper.monitoring.tap_client import stream_tap

    return stream_tap(args.url, args.name, args.match, args.limit, args.rate, sys.stdout)


def cmd_plugins(args: argparse.Namespace) -> int:
    from shipper.plugin_docs import default_text, options_markdown

    if args.markdown and not args.name:
        print("error: --markdown documents one plugin: shipper plugins NAME --markdown", file=sys.stderr)
        return EXIT_CONFIG
    if not args.name:
        for cls in registry.plugins():
            aliases = f" (alias {', '.join(cls.aliases)})" if cls.aliases else ""
            print(f"{cls.kind:<7} {cls.name:<18} {cls.summary}{aliases}")
        return 0
    found = [c for kind in ("input", "filter", "output") if (c := registry.lookup(kind, args.name))]
    if not found:
        known = [n for kind in ("input", "filter", "output") for n in registry.names(kind)]
        print(f"error: no plugin named {args.name!r}{suggest(args.name, known)}; `shipper plugins` lists them",
              file=sys.stderr)
        return EXIT_CONFIG
    for cls in found:
        if args.markdown:
            print(options_markdown(cls), end="")
            continue
        print(f"{cls.kind} {cls.name}: {cls.summary}")
        for option in cls.option_table():
            default = f" (default: {default_text(option)})" if default_text(option) else ""
            flags = "".join([" [required]" if option.required else "", " [repeatable]" if option.repeatable else ""])
            choices = f" one of: {', '.join(option.choices)}." if option.choices else ""
            text = option.ignored_note if option.ignored else option.help
            print(f"  {option.name:<32} {option.type:<8} {text}{choices}{default}{flags}")
    return 0


HANDLERS = {
    "run": cmd_run, "check": cmd_check, "dry-run": cmd_dry_run, "test": cmd_test, "tap": cmd_tap, "plugins": cmd_plugins,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "-V", "--version"):
        argv.insert(0, "run")  # `shipper -c FILE`, as with `fluent-bit -c FILE`
    args = make_parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: no such file", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`shipper dry-run ... | head`): stop quietly, as Unix tools do. Python would
        # report the pipe again when it flushes stdout at exit, so stdout is pointed at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
