"""`tumbler audit FILE...`: what a reviewer wants flagged in a valid lock.

``--vulns`` adds every package version the lock can install checked against OSV's
advisories (V1 known vulnerability, V2 malware, V3 an expired ignore): offline from
``--vuln-db PATH``, else online through the OSV API (``--osv-url``, ``TUMBLER_OSV_URL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    cache_options,
    cached_http,
    emit,
    names,
    output_options,
    report,
    style,
    trust_root,
)
from tumbler.findings import Finding, sort_findings

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from packaging.pylock import Pylock

    from tumbler.cli.views.findings import FileReport
    from tumbler.index.pages import IndexFile

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``audit``'s options."""
    parser.add_argument(
        "files", nargs="*", metavar="FILE", default=["pylock.toml"], help="default: ./pylock.toml"
    )
    parser.add_argument(
        "--attestations",
        action="store_true",
        help="verify every file of each package that records attestation identities "
        "against its PEP 740 provenance on the index (needs tumbler[attest])",
    )
    parser.add_argument(
        "--vulns",
        action="store_true",
        help="check every package version against OSV's advisories, malware included "
        "(V1, V2); ignores: [tool.tumbler] ignore-vulnerabilities beside the lock (V3 when "
        "expired)",
    )
    parser.add_argument(
        "--vuln-db",
        metavar="PATH",
        help="with --vulns: offline, from OSV's PyPI data (its all.zip, or the folder it "
        "unpacks to) instead of the OSV API",
    )
    parser.add_argument(
        "--osv-url",
        metavar="URL",
        help="with --vulns: the OSV API to ask (default: TUMBLER_OSV_URL, else "
        "https://api.osv.dev)",
    )
    parser.add_argument(
        "--min-age",
        metavar="SPAN",
        help="a cooldown: flag every locked file uploaded less than SPAN ago (7d, 1 week, "
        "P7D; C1), and files without an upload time (C2)",
    )
    parser.add_argument(
        "--min-age-exempt",
        action="append",
        metavar="NAME",
        help="with --min-age: a package name or glob pattern the cooldown spares (repeatable)",
    )
    parser.add_argument(
        "--index",
        action="store_true",
        help="read each package's recorded index: flag files it does not list (P1), "
        "releases it no longer has (P3) and files it has yanked since (Y1)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="report warnings as errors (C2, P2, A-rules)"
    )
    trust_root(parser)
    cache_options(parser)
    output_options(parser, ("text", "json", "markdown", "sarif"))


def run(args: argparse.Namespace) -> int:
    """Audit every file; 0 clean, 1 findings, 2 unreadable."""
    from tumbler.cli.common import lock_input
    from tumbler.cli.views.findings import FileReport
    from tumbler.lockfile.audit import audit
    from tumbler.lockfile.load import load

    reports: list[FileReport] = []
    texts: dict[str, str] = {}
    for ref in args.files:
        source = lock_input(ref, args)
        texts[ref] = source.data.decode("utf-8", errors="replace")
        loaded = load(source)
        findings = list(loaded.findings)
        vulns: FileReport | None = None
        if loaded.lock is not None:
            findings.extend(audit(loaded.lock.pylock))
            findings.extend(_policy(args, loaded.lock.pylock, source.path))
            if args.attestations:
                findings.extend(_audit_attestations(args, loaded.lock.pylock))
            if args.vulns or args.vuln_db or args.osv_url:
                vulns = _audit_vulns(args, ref, source.path, loaded.lock.pylock)
                findings.extend(vulns.findings)
        if args.strict:
            from tumbler.findings import strict

            findings = list(strict(tuple(findings)))
        reports.append(
            FileReport(
                ref,
                sort_findings(findings),
                database=vulns.database if vulns else None,
                details=vulns.details if vulns else {},
            )
        )
    if args.format == "sarif":
        from tumbler.cli.views.sarif import findings_sarif

        emit(findings_sarif(reports, texts))
    else:
        report(reports, args.format, style(args.color), "clean")
    return EXIT_FINDINGS if any(r.findings for r in reports) else EXIT_OK


def _project_pins(lock: Path | None) -> dict[str, str]:
    """The index pins of the project beside the lock (``[tool.tumbler.package-index]``)."""
    if lock is None:
        return {}
    from tumbler.advisories.ignores import project_settings

    settings, _ = project_settings(lock)
    return {str(k): v for k, v in settings.package_indexes.items()}


def _policy(args: argparse.Namespace, pylock: Pylock, lock_path: Path | None) -> list[Finding]:
    """P2 always; C1/C2 with ``--min-age``; P1, P3 and Y1 with ``--index``."""
    from tumbler.lockfile.policy import cooldown_findings, index_findings
    from tumbler.lockfile.tables import recorded_inputs

    recorded = recorded_inputs(pylock)
    pins = dict(recorded.package_indexes) if recorded else {}
    pins.update(_project_pins(lock_path))
    found = index_findings(pylock, pins)
    if args.min_age is not None:
        from datetime import UTC, datetime

        from tumbler.project.cooldown import Cooldown, parse_span

        span = parse_span(args.min_age, "--min-age", dates=False)
        exempt = tuple(names(args.min_age_exempt))
        cooldown = Cooldown(span=span, exempt=exempt)
        cutoff = cooldown.cutoff(datetime.now(UTC))
        assert cutoff is not None
        found += cooldown_findings(pylock, cutoff, cooldown.exempts if exempt else None)
    elif args.min_age_exempt:
        from tumbler.errors import UsageError

        raise UsageError("--min-age-exempt goes with --min-age")
    if args.index:
        found += _standing(args, pylock)
    return found


def _standing(args: argparse.Namespace, pylock: Pylock) -> list[Finding]:
    """``audit --index``: every locked file against its recorded index today."""
    from packaging.version import InvalidVersion, Version

    from tumbler.env.targets import parse_target
    from tumbler.index.finder import Finder
    from tumbler.index.standing import standing_findings
    from tumbler.project.indexes import IndexConfig

    http, _ = cached_http(args)
    finders: dict[str, Finder] = {}

    def lookup(index: str, name: str, version: str) -> list[IndexFile]:
        finder = finders.get(index)
        if finder is None:
            config = IndexConfig((index,))
            finder = Finder(http, config, parse_target("host"), speculate=False)
            finders[index] = finder
        try:
            return finder.release_files(name, Version(version))
        except InvalidVersion:
            return []

    try:
        return standing_findings(pylock, lookup)
    finally:
        http.close()


def _audit_vulns(
    args: argparse.Namespace, ref: str, path: Path | None, pylock: Pylock
) -> FileReport:
    """``audit --vulns``: the lock's package versions against OSV, the project's ignores
    applied; the report's findings are the hits and the expired ignores."""
    from datetime import UTC, datetime
    from pathlib import Path

    from tumbler.advisories.gate import advisories_for
    from tumbler.advisories.ignores import apply_ignores, project_settings
    from tumbler.advisories.match import hit_finding, match
    from tumbler.cli.views.findings import FileReport

    settings, pyproject = project_settings(path if path is not None else Path(ref))
    packages = [(str(p.name), str(p.version)) for p in pylock.packages if p.version is not None]
    http, _ = cached_http(args)
    try:
        database = advisories_for(
            packages,
            vuln_db=None if args.vuln_db is None else Path(args.vuln_db),
            osv_url=args.osv_url,
            http=http,
        )
    finally:
        http.close()
    triage = apply_ignores(
        match(pylock, database),
        settings.ignore_vulnerabilities,
        datetime.now(UTC).date(),
        str(pyproject) if pyproject is not None else "pyproject.toml",
    )
    details = {hit_finding(h): h.to_json() for h in triage.kept}
    return FileReport(
        ref,
        (*details, *triage.expired),
        database={"source": database.origin, "date": database.date, "records": database.records},
        details=details,
    )


def _audit_attestations(args: argparse.Namespace, pylock: Pylock) -> tuple[Finding, ...]:
    """``audit --attestations``: every wheel and sdist of each package with identities."""
    from tumbler.attest.fetch import artifacts_of, check_attestations

    http, cache = cached_http(args)
    chosen = [(p, a) for p in pylock.packages for a in artifacts_of(p)]
    try:
        return check_attestations(pylock, chosen, http, cache, offline=args.bundled_trust_root)
    finally:
        http.close()
