"""`tumbler audit FILE...`: what a reviewer wants flagged in a valid lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    cache_options,
    cached_http,
    output_options,
    report,
    style,
    trust_root,
)
from tumbler.findings import Finding, sort_findings

if TYPE_CHECKING:
    import argparse

    from packaging.pylock import Pylock

    from tumbler.cli.views.findings import FileReport

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
    trust_root(parser)
    cache_options(parser)
    output_options(parser, ("text", "json", "markdown"))


def run(args: argparse.Namespace) -> int:
    """Audit every file; 0 clean, 1 findings, 2 unreadable."""
    from tumbler.cli.views.findings import FileReport
    from tumbler.lockfile.audit import audit
    from tumbler.lockfile.load import load
    from tumbler.lockfile.source import read_source

    reports: list[FileReport] = []
    for ref in args.files:
        loaded = load(read_source(ref))
        findings = list(loaded.findings)
        if loaded.lock is not None:
            findings.extend(audit(loaded.lock.pylock))
            if args.attestations:
                findings.extend(_audit_attestations(args, loaded.lock.pylock))
        reports.append(FileReport(ref, sort_findings(findings)))
    report(reports, args.format, style(args.color), "clean")
    return EXIT_FINDINGS if any(r.findings for r in reports) else EXIT_OK


def _audit_attestations(args: argparse.Namespace, pylock: Pylock) -> tuple[Finding, ...]:
    """``audit --attestations``: every wheel and sdist of each package with identities."""
    from tumbler.attest.fetch import artifacts_of, check_attestations

    http, cache = cached_http(args)
    chosen = [(p, a) for p in pylock.packages for a in artifacts_of(p)]
    try:
        return check_attestations(pylock, chosen, http, cache, offline=args.bundled_trust_root)
    finally:
        http.close()
