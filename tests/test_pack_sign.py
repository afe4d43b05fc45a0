"""Signing keys: generation, loading from a file or the environment, sign/check round trip."""

from __future__ import annotations

import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gcevidence.cli import main
from gcevidence.config import SigningConfig
from gcevidence.errors import InputError
from gcevidence.pack import sign


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path, capsys):
    assert main(["keygen", "--out", str(tmp_path / "signing.pem")]) == 0
    private, public = tmp_path / "signing.pem", tmp_path / "signing.pem.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    key = sign.load_signing_key(SigningConfig(key=private))
    assert sign.key_id(key.public_key()) == sign.key_id(sign.load_public_key(public))
    assert sign.key_id(key.public_key()) in capsys.readouterr().out


def test_keygen_never_overwrites(tmp_path, capsys):
    (tmp_path / "k.pem").write_text("precious")
    assert main(["keygen", "--out", str(tmp_path / "k.pem")]) == 2
    assert (tmp_path / "k.pem").read_text() == "precious"
    assert "already exists" in capsys.readouterr().err


def test_key_from_an_environment_variable(tmp_path):
    private, _, key_id = sign.keygen(tmp_path / "k.pem")
    env = {"GCEVIDENCE_SIGNING_KEY": private.read_text()}
    key = sign.load_signing_key(SigningConfig(key_env="GCEVIDENCE_SIGNING_KEY"), env)
    assert sign.key_id(key.public_key()) == key_id


def test_no_signing_configured_means_no_key():
    assert sign.load_signing_key(SigningConfig(), {}) is None


def test_unset_variable_names_the_field_and_variable():
    with pytest.raises(InputError) as err:
        sign.load_signing_key(SigningConfig(key_env="PACK_KEY"), {}, source="params.yaml")
    assert err.value.field == "signing.key_env" and "PACK_KEY" in str(err.value)
    assert err.value.exit_status == 2


def test_bad_pem_in_variable_never_echoes_the_value():
    value = "-----BEGIN PRIVATE KEY-----\nnot-really-a-key-but-secret\n-----END PRIVATE KEY-----"
    with pytest.raises(InputError) as err:
        sign.load_signing_key(SigningConfig(key_env="PACK_KEY"), {"PACK_KEY": value})
    assert err.value.field == "signing.key_env"
    assert "not-really-a-key" not in str(err.value)


def test_missing_key_file_names_the_field(tmp_path):
    with pytest.raises(InputError) as err:
        sign.load_signing_key(SigningConfig(key=tmp_path / "absent.pem"))
    assert err.value.field == "signing.key" and "keygen" in str(err.value)


def test_rsa_key_is_refused(tmp_path):
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "rsa.pem").write_bytes(pem)
    with pytest.raises(InputError, match="not an Ed25519 key"):
        sign.load_signing_key(SigningConfig(key=tmp_path / "rsa.pem"))


def test_both_key_and_key_env_is_ambiguous(tmp_path):
    with pytest.raises(InputError) as err:
        sign.load_signing_key(SigningConfig(key=tmp_path / "k.pem", key_env="K"), {})
    assert err.value.field == "signing"


def test_sign_and_check_round_trip(tmp_path):
    private, public, key_id = sign.keygen(tmp_path / "k.pem")
    key = sign.load_signing_key(SigningConfig(key=private))
    manifest = b'{"schema": "gcevidence.manifest/1"}\n'
    sig = sign.sign_manifest(manifest, key)
    assert sign.check_signature(manifest, sig) == sign.SignatureCheck("valid", key_id)
    assert sign.check_signature(manifest, sig, sign.load_public_key(public)).status == "valid"
    # One byte more (even whitespace) and it no longer verifies.
    assert sign.check_signature(manifest + b" ", sig).status == "invalid"
    other = sign.keygen(tmp_path / "other.pem")[1]
    assert sign.check_signature(manifest, sig, sign.load_public_key(other)).status == "invalid"
