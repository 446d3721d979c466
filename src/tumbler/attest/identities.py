"""PEP 740 provenance: the publisher identities it names, and verifying a file against it.

Pure but for the cryptography: :func:`identities_of` reads the publishers out of a
provenance object (what ``lock --attestations`` records in
``[[packages.attestation-identities]]``, R37); :func:`verify` checks one file's provenance
with ``pypi-attestations`` and ``sigstore`` (the ``tumbler[attest]`` extra): each
attestation's certificate chains to the Sigstore trust root (the one bundled with
sigstore when ``offline``), its transparency-log entry checks, its statement's subject is
the file's name and sha256, and its signer is one of the identities the lock records.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tumbler.errors import InputError, NetworkError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["Verdict", "identities_of", "identity_text", "verify"]


def identities_of(provenance: bytes, origin: str) -> list[dict[str, Any]]:
    """The publishers of every attestation bundle in ``provenance`` as lock tables: ``kind``
    and the publisher's own keys (keys without a value left out), de-duplicated, sorted.

    Read as plain JSON (no extra needed): recording is not verifying; ``install
    --verify-attestations`` and ``audit --attestations`` verify."""
    try:
        data = json.loads(provenance)
        bundles = data["attestation_bundles"]
        publishers = [b["publisher"] for b in bundles]
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{origin}: not a PEP 740 provenance object ({error})") from None
    found: dict[str, dict[str, Any]] = {}
    for publisher in publishers:
        if not isinstance(publisher, dict) or not isinstance(publisher.get("kind"), str):
            raise InputError(f"{origin}: a publisher without a kind")
        table = {str(k): v for k, v in publisher.items() if v is not None and v != ""}
        found[json.dumps(table, sort_keys=True)] = table
    return [found[k] for k in sorted(found)]


def identity_text(identity: Mapping[str, Any]) -> str:
    """``GitHub repository=pypa/sampleproject workflow=release.yml``: for messages."""
    rest = " ".join(f"{k}={v}" for k, v in sorted(identity.items()) if k != "kind")
    return f"{identity.get('kind')} {rest}".strip()


@dataclass(frozen=True, slots=True)
class Verdict:
    """One file's check: ``problem`` is None when it verified."""

    #: ``missing``, ``invalid``, ``mismatch`` (subject is another file), ``identity``
    #: (signed by someone the lock does not record); empty when it verified.
    kind: str
    problem: str | None
    #: The identity whose attestation verified, for reports.
    signer: str | None = None


def _library() -> Any:
    try:
        import pypi_attestations
    except ImportError:
        raise UsageError(
            "verifying attestations needs the attest extra: pip install 'tumbler[attest]'"
        ) from None
    # sigstore logs every offline trust-root load as a warning; the verdict says enough.
    logging.getLogger("sigstore").setLevel(logging.ERROR)
    return pypi_attestations


def verify(
    provenance: bytes | None,
    filename: str,
    sha256: str,
    identities: Sequence[Mapping[str, Any]],
    *,
    offline: bool,
) -> Verdict:
    """Whether ``filename`` (whose sha256 is ``sha256``) has an attestation in
    ``provenance`` that verifies and was signed by one of ``identities``."""
    if provenance is None:
        return Verdict("missing", "no provenance: the index serves no attestation for it")
    library = _library()
    from pydantic import TypeAdapter, ValidationError

    try:
        parsed = library.Provenance.model_validate_json(provenance)
    except ValidationError as error:
        first = error.errors()[0]
        return Verdict("invalid", f"provenance cannot be read: {first['msg']} at {first['loc']}")
    adapter = TypeAdapter(library.Publisher)
    wanted = []
    for identity in identities:
        try:
            wanted.append((identity, adapter.validate_python(dict(identity))))
        except ValidationError:
            continue  # a kind this pypi-attestations cannot check
    if not wanted:
        return Verdict("identity", "none of the lock's identities is a kind that can be checked")
    dist = library.Distribution(name=filename, digest=sha256)
    errors: list[str] = []
    for bundle in parsed.attestation_bundles:
        for attestation in bundle.attestations:
            for identity, publisher in wanted:
                try:
                    attestation.verify(publisher, dist, offline=offline)
                except library.AttestationError as error:
                    errors.append(str(error))
                    continue
                except Exception as error:
                    if offline:
                        raise
                    # Refreshing the trust root over the network failed (no file's fault).
                    raise NetworkError(
                        f"cannot refresh the Sigstore trust root ({type(error).__name__}: "
                        f"{error}); pass --bundled-trust-root to use the one bundled with sigstore"
                    ) from None
                return Verdict("", None, identity_text(identity))
    return _failure(library, parsed, dist, errors, offline=offline)


def _failure(library: Any, parsed: Any, dist: Any, errors: list[str], *, offline: bool) -> Verdict:
    """Why no attestation verified: another file, another signer, or not valid at all."""
    if any("subject does not match" in e for e in errors):
        return Verdict(
            "mismatch",
            "the attestation is for other bytes: its subject digest is not this file's sha256",
        )
    for bundle in parsed.attestation_bundles:
        for attestation in bundle.attestations:
            try:
                attestation.verify(bundle.publisher, dist, offline=offline)
            except library.AttestationError:
                continue
            signer = identity_text(bundle.publisher.model_dump(exclude_none=True))
            return Verdict(
                "identity", f"signed by {signer}, which is not an identity the lock records"
            )
    reason = errors[0] if errors else "no attestation in the provenance"
    return Verdict("invalid", f"the attestation does not verify: {reason}")
