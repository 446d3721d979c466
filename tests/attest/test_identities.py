"""PEP 740 verification on the real recorded attestations in tests/data/attestations (offline:
the Sigstore trust root bundled with sigstore). The subjects' sha256 are the ones the
fixtures' README lists for the real files on the index; the live end-to-end tests in
test_attestfetch.py download those files and check their bytes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ATTESTATIONS
from tumbler.attest.identities import identities_of, identity_text, verify
from tumbler.errors import InputError

GCB = "gcb_attestation_test-0.0.0.tar.gz"
GCB_SHA256 = "461317362419124b6012e855423a9078d6de8aed3e74fa78cc74d669b23dc6cf"
GCB_IDENTITY = {"kind": "Google", "email": "919436158236-compute@developer.gserviceaccount.com"}
PA = "pypi_attestations-0.0.19.tar.gz"
PA_SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
PA_IDENTITY = {
    "kind": "GitHub",
    "repository": "trailofbits/pypi-attestations",
    "workflow": "release.yml",
}


def provenance(name: str) -> bytes:
    return (ATTESTATIONS / f"{name}.provenance").read_bytes()


def test_identities_are_the_publishers_without_empty_keys() -> None:
    assert identities_of(provenance(GCB), GCB) == [GCB_IDENTITY]
    # The GitHub publisher's "environment": null is left out (R37: kind + its own keys).
    assert identities_of(provenance(PA), PA) == [PA_IDENTITY]
    assert identity_text(PA_IDENTITY) == (
        "GitHub repository=trailofbits/pypi-attestations workflow=release.yml"
    )


def test_identities_of_something_else_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a PEP 740 provenance object"):
        identities_of(b'{"hello": 1}', "x.provenance")
    with pytest.raises(InputError, match="a publisher without a kind"):
        identities_of(b'{"attestation_bundles": [{"publisher": {}}]}', "x.provenance")


@pytest.mark.parametrize(
    ("name", "sha256", "identity"),
    [(GCB, GCB_SHA256, GCB_IDENTITY), (PA, PA_SHA256, PA_IDENTITY)],
)
def test_the_genuine_file_and_identity_verify(
    name: str, sha256: str, identity: dict[str, str]
) -> None:
    verdict = verify(provenance(name), name, sha256, [identity], offline=True)
    assert verdict.problem is None
    assert verdict.signer == identity_text(identity)


def test_one_matching_identity_among_several_is_enough() -> None:
    other = {"kind": "Google", "email": "someone-else@developer.gserviceaccount.com"}
    verdict = verify(provenance(GCB), GCB, GCB_SHA256, [other, GCB_IDENTITY], offline=True)
    assert verdict.problem is None


def test_a_file_with_other_bytes_fails() -> None:
    # One byte of the file changed: its sha256 is another; the attestation's subject is not.
    changed = GCB_SHA256[:-1] + ("0" if GCB_SHA256[-1] != "0" else "1")
    verdict = verify(provenance(GCB), GCB, changed, [GCB_IDENTITY], offline=True)
    assert verdict.kind == "mismatch"
    assert "subject digest is not this file's sha256" in str(verdict.problem)


@pytest.mark.parametrize(
    "identity",
    [
        {"kind": "Google", "email": "someone-else@developer.gserviceaccount.com"},
        {"kind": "GitHub", "repository": "trailofbits/pypi-attestations", "workflow": "other.yml"},
    ],
)
def test_another_identity_fails_and_names_the_real_signer(identity: dict[str, str]) -> None:
    name, sha256, real = (
        (GCB, GCB_SHA256, GCB_IDENTITY)
        if identity["kind"] == "Google"
        else (PA, PA_SHA256, PA_IDENTITY)
    )
    verdict = verify(provenance(name), name, sha256, [identity], offline=True)
    assert verdict.kind == "identity"
    assert verdict.problem == (
        f"signed by {identity_text(real)}, which is not an identity the lock records"
    )


def test_a_broken_signature_fails() -> None:
    data = json.loads(provenance(GCB))
    envelope = data["attestation_bundles"][0]["attestations"][0]["envelope"]
    signature = bytearray(envelope["signature"].encode())
    signature[10] = ord("A") if signature[10] != ord("A") else ord("B")
    envelope["signature"] = signature.decode()
    verdict = verify(json.dumps(data).encode(), GCB, GCB_SHA256, [GCB_IDENTITY], offline=True)
    assert verdict.kind == "invalid"
    assert verdict.problem is not None
    assert verdict.problem.startswith("the attestation does not verify")


def test_no_provenance_and_unreadable_provenance() -> None:
    assert verify(None, GCB, GCB_SHA256, [GCB_IDENTITY], offline=True).kind == "missing"
    unreadable = verify(b'{"version": 1}', GCB, GCB_SHA256, [GCB_IDENTITY], offline=True)
    assert unreadable.kind == "invalid"
    assert "provenance cannot be read" in str(unreadable.problem)


def test_an_identity_kind_that_cannot_be_checked() -> None:
    verdict = verify(provenance(GCB), GCB, GCB_SHA256, [{"kind": "Nobody"}], offline=True)
    assert verdict.kind == "identity"
    assert "none of the lock's identities" in str(verdict.problem)


def test_online_verification_either_verifies_or_says_the_trust_root_is_unreachable() -> None:
    """Without --bundled-trust-root the root is refreshed over the network: where Sigstore
    cannot be reached (this machine) that is one NetworkError line, never a library
    exception from deep in TUF."""
    from tumbler.errors import NetworkError

    try:
        verdict = verify(provenance(GCB), GCB, GCB_SHA256, [GCB_IDENTITY], offline=False)
    except NetworkError as error:
        assert str(error).startswith("cannot refresh the Sigstore trust root")
        assert "--bundled-trust-root" in str(error)
    else:
        assert verdict.problem is None
