"""Signing certificates of the simulated identity providers (PEM, as SAMLProvider carries them)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@lru_cache(maxsize=16)
def saml_certificate(common_name: str, not_before: dt.date, not_after: dt.date) -> str:
    """A self-signed X.509 certificate in PEM; cached, because tests start many simulators."""
    # EC P-256 keys are generated in microseconds; RSA would slow every simulator start.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = dt.datetime.combine(not_before, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(not_after, dt.time.min, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
