"""Ed25519 signatures over manifest.json.

Design: manifest.sig is a small JSON document holding the base64 signature over the exact bytes
of manifest.json, the signer's raw public key (base64) and its key id (``sha256:`` + hex of the
raw 32-byte public key). manifest.json itself records the key id under ``signing``, inside the
signed bytes, so removing or swapping the signature is detected. Anyone can re-sign a forged
pack with their own key, so a pack proves its origin only when the key id matches the one the
organisation published (``gcevidence keygen`` prints it) or when verify is given that public
key (``gcevidence verify PACK --public-key KEY.pub``); verify always reports which key signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gcevidence.config import SigningConfig
from gcevidence.errors import InputError, UsageError

log = logging.getLogger(__name__)

SIG_SCHEMA = "gcevidence.signature/1"
ALGORITHM = "ed25519"
_KEYGEN_FIX = "generate one with: gcevidence keygen --out signing-key.pem"


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's fingerprint: sha256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _private_from_pem(data: bytes, source: str, field: str, shown: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # the PEM is encrypted
        raise InputError(
            source,
            field,
            shown,
            "is a passphrase-protected key, which is not supported",
            "store an unencrypted key with restricted permissions "
            "or in a secret manager exposed through signing.key_env",
        ) from exc
    except (ValueError, binascii.Error) as exc:
        raise InputError(source, field, shown, "is not a PEM private key", _KEYGEN_FIX) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(source, field, shown, "is not an Ed25519 key", _KEYGEN_FIX)
    return key


def load_private_key(path: Path, source: str, field: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file; InputError naming `field` when it cannot be."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            source, field, str(path), f"cannot be read ({exc.strerror})", _KEYGEN_FIX
        ) from exc
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("signing key %s is readable by other users; chmod 600 it", path)
    return _private_from_pem(data, source, field, str(path))


def load_signing_key(
    config: SigningConfig, env: Mapping[str, str] | None = None, source: str = "params"
) -> Ed25519PrivateKey | None:
    """The private key named by params `signing` (a PEM path or an env var), or None."""
    env = os.environ if env is None else env
    if config.key and config.key_env:
        raise InputError(
            source,
            "signing",
            {"key": str(config.key), "key_env": config.key_env},
            "sets both key and key_env",
            "keep only one of them",
        )
    if config.key:
        return load_private_key(Path(config.key), source, "signing.key")
    if config.key_env:
        pem = env.get(config.key_env, "")
        if not pem.strip():
            raise InputError(
                source,
                "signing.key_env",
                config.key_env,
                "names an environment variable that is not set or empty",
                f"export {config.key_env} with the PEM text of the private key",
            )
        # The value is never shown: it is the key itself.
        return _private_from_pem(pem.encode("utf-8"), source, "signing.key_env", config.key_env)
    return None


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (as written by keygen to PATH.pub)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise InputError(
            str(path),
            "--public-key",
            str(path),
            f"cannot be read ({exc.strerror})",
            "pass the .pub file keygen wrote",
        ) from exc
    except (ValueError, binascii.Error) as exc:
        raise InputError(
            str(path),
            "--public-key",
            str(path),
            "is not a PEM public key",
            "pass the .pub file keygen wrote",
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(
            str(path),
            "--public-key",
            str(path),
            "is not an Ed25519 key",
            "pass the .pub file keygen wrote",
        )
    return key


def keygen(out: Path) -> tuple[Path, Path, str]:
    """Write a new private key to `out` (mode 0600) and its public key to `out`.pub."""
    out = Path(out)
    pub = out.with_name(out.name + ".pub")
    for path in (out, pub):
        if path.exists():
            raise UsageError(
                f"{path} already exists; keygen never overwrites a key, choose another --out"
            )
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        # O_EXCL and the mode at creation: the key is never readable by others, not even briefly.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_pem)
        pub.write_bytes(public_pem)
    except OSError as exc:
        raise UsageError(
            f"cannot write {exc.filename or out} ({exc.strerror}); choose a writable --out"
        ) from exc
    return out, pub, key_id(key.public_key())


def signing_block(key: Ed25519PrivateKey) -> dict[str, str]:
    """What manifest.json records about the key that signs it."""
    return {"algorithm": ALGORITHM, "key_id": key_id(key.public_key())}


def sign_manifest(manifest_bytes: bytes, key: Ed25519PrivateKey) -> bytes:
    """manifest.sig: the signature over the exact manifest.json bytes, with the signer's key."""
    return sign_file_bytes(manifest_bytes, key, "manifest.json")


def sign_file_bytes(data: bytes, key: Ed25519PrivateKey, signed_file: str) -> bytes:
    """A detached signature document over the exact bytes of `signed_file`."""
    public = key.public_key()
    doc = {
        "schema": SIG_SCHEMA,
        "algorithm": ALGORITHM,
        "signed_file": signed_file,
        "key_id": key_id(public),
        "public_key": base64.b64encode(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode("ascii"),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }
    return (json.dumps(doc, sort_keys=True, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class SignatureCheck:
    """Outcome of checking manifest.sig: status valid|invalid|absent, signer key id, why."""

    status: str
    key_id: str = ""
    problem: str = ""


def check_signature(
    manifest_bytes: bytes,
    sig_bytes: bytes,
    public_key: Ed25519PublicKey | None = None,
    *,
    signed_file: str = "manifest.json",
    sig_file: str = "manifest.sig",
) -> SignatureCheck:
    """Check a detached signature (by default manifest.sig over manifest.json).

    With `public_key` the signer must be that key; otherwise the embedded key is used.
    """
    try:
        doc = json.loads(sig_bytes.decode("utf-8"))
        if doc.get("schema") != SIG_SCHEMA or doc.get("algorithm") != ALGORITHM:
            return SignatureCheck("invalid", problem=f"{sig_file} is not an Ed25519 signature")
        embedded = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(doc["public_key"], validate=True)
        )
        signature = base64.b64decode(doc["signature"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return SignatureCheck("invalid", problem=f"{sig_file} cannot be read")
    signer = key_id(embedded)
    if doc.get("key_id") != signer:
        return SignatureCheck("invalid", signer, f"{sig_file} key_id does not match its key")
    if public_key is not None and key_id(public_key) != signer:
        return SignatureCheck(
            "invalid", signer, f"signed by {signer}, not by the expected key {key_id(public_key)}"
        )
    try:
        embedded.verify(signature, manifest_bytes)
    except InvalidSignature:
        return SignatureCheck("invalid", signer, f"signature does not match {signed_file}")
    return SignatureCheck("valid", signer)
