"""gcevidence publish against a real S3 API on loopback (moto's server mode).

Proves what Object Lock in compliance mode promises: a published version cannot be deleted,
and a later upload to the same key leaves the locked version intact and still locked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid

import pytest
from gcevidence.cli import main
from gcevidence.config import SigningConfig
from gcevidence.errors import PackError
from gcevidence.pack import PackBuilder
from gcevidence.pack.publish import publish_pack
from gcevidence.pack.sign import keygen, load_signing_key

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")
ClientError = pytest.importorskip("botocore.exceptions").ClientError

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on a free loopback port, with fake credentials in the environment."""
    saved = {
        k: os.environ.get(k)
        for k in [*FAKE_AWS, "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]
    }
    for key in ("AWS_PROFILE",):
        os.environ.pop(key, None)
    os.environ.update(FAKE_AWS, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint)


def new_bucket(s3, locked: bool = True) -> str:
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=locked)
    return name


@pytest.fixture
def pack(tmp_path):
    private, _, _ = keygen(tmp_path / "k.pem")
    with PackBuilder(tmp_path / "out", "2026-11-30") as pb:
        (pb.dir / "evidence").mkdir()
        (pb.dir / "evidence" / "users.csv").write_text("id,name\n1,Zoë\n", encoding="utf-8")
        (pb.dir / "findings.json").write_text('{"findings": []}\n')
        (pb.dir / "requests.jsonl").write_bytes(os.urandom(200_000))
        (pb.dir / "index.html").write_text(f"<p>{pb.content_digest()}</p>")
        return pb.seal({"org": {"id": "o-1"}}, load_signing_key(SigningConfig(key=private)))


def pack_files(pack) -> list[str]:
    return sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())


def test_publish_uploads_every_file_locked_and_identical(s3, s3_endpoint, pack):
    bucket = new_bucket(s3)
    before = dt.datetime.now(dt.UTC)
    summary = publish_pack(pack, f"s3://{bucket}/acme/evidence", 30, s3_endpoint)

    prefix = f"acme/evidence/2026-11-30/{pack.name}/"
    assert summary.prefix == prefix and summary.uploaded == len(pack_files(pack)) == 6
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [prefix + p for p in pack_files(pack)]
    for rel in pack_files(pack):
        got = s3.get_object(Bucket=bucket, Key=prefix + rel)
        assert got["Body"].read() == (pack / rel).read_bytes()
        assert got["ObjectLockMode"] == "COMPLIANCE"
        until = got["ObjectLockRetainUntilDate"]
        assert before + dt.timedelta(days=29) < until < before + dt.timedelta(days=31)
        assert got["Metadata"]["sha256"] == hashlib.sha256((pack / rel).read_bytes()).hexdigest()


def test_locked_version_cannot_be_deleted_or_overwritten(s3, s3_endpoint, pack):
    bucket = new_bucket(s3)
    summary = publish_pack(pack, f"s3://{bucket}/p", 30, s3_endpoint)
    key = summary.prefix + "findings.json"
    version = summary.versions["findings.json"]
    original = (pack / "findings.json").read_bytes()

    with pytest.raises(ClientError) as denied:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"

    # An "overwrite" or a plain delete only stacks a new version or a delete marker on top:
    # the locked version keeps its bytes and its lock.
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"findings": ["forged"]}')
    s3.delete_object(Bucket=bucket, Key=key)
    kept = s3.get_object(Bucket=bucket, Key=key, VersionId=version)
    assert kept["Body"].read() == original and kept["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError) as denied:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_bucket_without_object_lock_is_refused(s3, s3_endpoint, pack):
    bucket = new_bucket(s3, locked=False)
    with pytest.raises(PackError, match="does not have S3 Object Lock enabled"):
        publish_pack(pack, f"s3://{bucket}/p", 30, s3_endpoint)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_missing_bucket_is_named(s3_endpoint, pack):
    with pytest.raises(PackError, match="does not exist"):
        publish_pack(pack, "s3://no-such-bucket-here/p", 30, s3_endpoint)


def test_tampered_pack_is_not_published(s3, s3_endpoint, pack):
    bucket = new_bucket(s3)
    (pack / "findings.json").write_text('{"findings": ["forged"]}\n')
    with pytest.raises(PackError, match="does not verify"):
        publish_pack(pack, f"s3://{bucket}/p", 30, s3_endpoint)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_publishing_again_skips_what_is_there_and_never_overwrites(s3, s3_endpoint, pack):
    bucket = new_bucket(s3)
    first = publish_pack(pack, f"s3://{bucket}/p", 30, s3_endpoint)
    again = publish_pack(pack, f"s3://{bucket}/p", 30, s3_endpoint)
    assert (again.uploaded, again.skipped) == (0, first.uploaded)
    # Someone else's object sits where this pack's index.html would go.
    other = new_bucket(s3)
    s3.put_object(
        Bucket=other,
        Key=f"{first.prefix}index.html",
        Body=b"other",
        Metadata={"sha256": "0" * 64},
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    with pytest.raises(PackError, match="never overwritten"):
        publish_pack(pack, f"s3://{other}/p", 30, s3_endpoint)


def test_cli_publish_exit_status(s3, s3_endpoint, pack, capsys):
    bucket = new_bucket(s3)
    assert (
        main(
            [
                "publish",
                str(pack),
                "--s3-uri",
                f"s3://{bucket}/x",
                "--retain-days",
                "7",
                "--endpoint-url",
                s3_endpoint,
            ]
        )
        == 0
    )
    assert "6 uploaded" in capsys.readouterr().out
    plain = new_bucket(s3, locked=False)
    assert (
        main(["publish", str(pack), "--s3-uri", f"s3://{plain}/x", "--endpoint-url", s3_endpoint])
        == 1
    )
    assert "Object Lock" in capsys.readouterr().err
    assert (
        main(["publish", str(pack), "--s3-uri", "https://not-s3", "--endpoint-url", s3_endpoint])
        == 2
    )


def test_keys_come_from_the_manifest_not_the_working_directory(s3, s3_endpoint, pack, monkeypatch):
    bucket = new_bucket(s3)
    monkeypatch.chdir(pack)
    summary = publish_pack(".", f"s3://{bucket}/p/", 30, s3_endpoint)
    assert summary.prefix == f"p/2026-11-30/{pack.name}/"


def test_unreachable_endpoint_is_one_line(s3_endpoint, pack, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(PackError, match="cannot reach S3") as err:
        publish_pack(pack, "s3://bucket/p", 30, "http://127.0.0.1:9")
    assert "\n" not in str(err.value) and "--endpoint-url" in str(err.value)


def test_missing_credentials_are_named(s3_endpoint, pack, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(PackError, match="no AWS credentials"):
        publish_pack(pack, "s3://bucket/p", 30, s3_endpoint)
