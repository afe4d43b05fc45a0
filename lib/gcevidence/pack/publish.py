"""Publishing a sealed pack to write-once storage: S3 Object Lock in compliance mode.

Objects land under `s3://BUCKET/PREFIX/<period-end>/<run-id>/<path>`, manifest.json and
manifest.sig last so their presence marks a complete upload. Every object carries its own
retain-until date; in compliance mode nobody, not even the account root, can delete or
overwrite that version before the date. Re-running publish after an interrupted upload skips
objects already there with the same sha256 and refuses any that differ.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcevidence.errors import InputError, PackError
from gcevidence.pack import manifest as mf
from gcevidence.pack.verify import verify_pack

log = logging.getLogger(__name__)

DEFAULT_RETAIN_DAYS = 365
_MAX_SINGLE_PUT = 5 * 1024**3
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PublishSummary:
    """What publish uploaded and re-read."""

    bucket: str
    prefix: str  # key prefix of this pack, ending in <period-end>/<run-id>/
    uploaded: int
    skipped: int  # already present with the same digest (a resumed publish)
    bytes: int
    retain_until: dt.datetime
    versions: dict[str, str]  # pack path -> S3 version id


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix without surrounding slashes) from s3://BUCKET/PREFIX."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise InputError("command line", "--s3-uri", uri, "must look like s3://BUCKET/PREFIX")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise InputError(
            "command line", "--s3-uri", uri, "names no bucket", "use s3://BUCKET/PREFIX"
        )
    return bucket, prefix.strip("/")


def _digests(path: Path) -> tuple[str, str, str, int]:
    """(sha256 hex, sha256 base64, md5 base64, size) in one streaming pass."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return (
        sha.hexdigest(),
        base64.b64encode(sha.digest()).decode("ascii"),
        base64.b64encode(md5.digest()).decode("ascii"),
        size,
    )


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _s3_client(endpoint_url: str | None) -> Any:
    import boto3  # imported here: the rest of the toolkit should not pay for boto3's import

    # A fresh session, not boto3's cached default: credentials are resolved for this call.
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url)


def _require_object_lock(s3: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        conf = s3.get_object_lock_configuration(Bucket=bucket)
    except ClientError as exc:
        code = _error_code(exc)
        if code == "ObjectLockConfigurationNotFoundError":
            conf = {}
        elif code == "NoSuchBucket":
            raise PackError(
                f"bucket {bucket} does not exist; create it with Object Lock enabled"
            ) from exc
        elif code in ("AccessDenied", "AllAccessDisabled"):
            raise PackError(
                f"cannot read the Object Lock configuration of bucket {bucket} "
                "(AccessDenied); grant s3:GetBucketObjectLockConfiguration"
            ) from exc
        else:
            raise PackError(f"bucket {bucket}: {code or exc}") from exc
    enabled = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
    if enabled != "Enabled":
        raise PackError(
            f"bucket {bucket} does not have S3 Object Lock enabled, so published "
            "evidence could be deleted or overwritten; use a bucket created with "
            "Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket)"
        )


def _existing(s3: Any, bucket: str, key: str) -> dict | None:
    """The head of an object already at `key`, or None when there is none."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _read_back(s3: Any, bucket: str, key: str, version: str | None) -> tuple[str, dict]:
    """Download what was stored and hash it; returns (sha256 hex, response headers)."""
    args = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    got = s3.get_object(**args)
    sha = hashlib.sha256()
    for chunk in got["Body"].iter_chunks(_CHUNK):
        sha.update(chunk)
    return sha.hexdigest(), got


def _upload_locked(
    s3: Any, bucket: str, key: str, path: Path, expected_sha: str | None, retain_until: dt.datetime
) -> tuple[str | None, int] | None:
    """Upload one file under compliance retention and read it back; None if already there."""
    sha_hex, sha_b64, md5_b64, size = _digests(path)
    if expected_sha is not None and sha_hex != expected_sha:
        raise PackError(f"{path} changed while publishing; verify the pack")
    if size > _MAX_SINGLE_PUT:
        raise PackError(
            f"{path} is larger than 5 GiB, which a single upload cannot carry; "
            "keep evidence files smaller"
        )
    existing = _existing(s3, bucket, key)
    if existing is not None:
        if (
            existing.get("Metadata", {}).get("sha256") != sha_hex
            or existing.get("ObjectLockMode") != "COMPLIANCE"
        ):
            raise PackError(
                f"s3://{bucket}/{key} already exists with other content or "
                "without compliance retention; a published pack is never "
                "overwritten, publish to another --s3-uri prefix"
            )
        return None
    with open(path, "rb") as body:
        put = s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentLength=size,
            ContentMD5=md5_b64,
            ChecksumSHA256=sha_b64,
            ContentType=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            Metadata={"sha256": sha_hex},
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain_until,
        )
    version = put.get("VersionId")
    stored, got = _read_back(s3, bucket, key, version)
    if stored != sha_hex:
        raise PackError(
            f"s3://{bucket}/{key} reads back with sha256 {stored}, not {sha_hex}; "
            "the upload is corrupt, re-run publish"
        )
    if got.get("ObjectLockMode") != "COMPLIANCE":
        raise PackError(
            f"s3://{bucket}/{key} was stored without compliance-mode retention; "
            "check the bucket's Object Lock settings"
        )
    log.info("uploaded %s (%d bytes, version %s)", key, size, version)
    return version, size


def _pack_name(pack: Path, doc: dict[str, Any]) -> tuple[str, str]:
    """(period end, run id) from the signed manifest, else from the folder's place."""
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    resolved = pack.resolve()
    period_end = str(meta.get("period_end") or resolved.parent.name)
    run_id = str(meta.get("run_id") or resolved.name)
    for part in (period_end, run_id):
        if not mf.safe_relative_path(part) or "/" in part:
            raise PackError(f"{pack}: manifest names an unusable period end or run id {part!r}")
    return period_end, run_id


def publish_pack(
    pack_dir: str | Path,
    s3_uri: str,
    retain_days: int = DEFAULT_RETAIN_DAYS,
    endpoint_url: str | None = None,
) -> PublishSummary:
    """Verify, upload with compliance-mode retention, re-read and compare every file."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    pack = Path(pack_dir)
    if isinstance(retain_days, bool) or not isinstance(retain_days, int) or retain_days < 1:
        raise InputError(
            "command line", "--retain-days", retain_days, "must be a positive whole number of days"
        )
    bucket, base = parse_s3_uri(s3_uri)
    report = verify_pack(pack)
    if not report.ok:
        named = [*report.missing, *report.added, *report.changed]
        raise PackError(
            f"{pack} does not verify ({len(named)} file(s) missing, added or "
            f"changed; signature {report.signature}); run gcevidence verify {pack} "
            "and publish only an intact pack"
        )
    doc = mf.parse_manifest((pack / mf.MANIFEST).read_bytes())
    entries = {e.path: e for e in mf.entries_of(doc)}
    # manifest and signature go last: a reader who sees manifest.json sees a complete pack.
    paths = sorted(entries) + [p for p in (mf.MANIFEST, mf.SIGNATURE) if (pack / p).is_file()]
    prefix = "/".join(p for p in (base, *_pack_name(pack, doc)) if p) + "/"
    retain_until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=retain_days)).replace(microsecond=0)

    try:
        s3 = _s3_client(endpoint_url)
        _require_object_lock(s3, bucket)
        uploaded = skipped = total = 0
        versions: dict[str, str] = {}
        for rel in paths:
            expected = entries[rel].sha256 if rel in entries else None
            result = _upload_locked(s3, bucket, prefix + rel, pack / rel, expected, retain_until)
            if result is None:
                skipped += 1
                continue
            version, size = result
            if version:
                versions[rel] = version
            uploaded += 1
            total += size
    except NoCredentialsError as exc:
        raise PackError(
            "no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        ) from exc
    except ClientError as exc:
        raise PackError(
            f"S3 refused the upload to s3://{bucket}/{prefix} "
            f"({_error_code(exc) or exc}); check the bucket policy and your "
            "credentials"
        ) from exc
    except BotoCoreError as exc:
        raise PackError(
            f"cannot reach S3 for s3://{bucket}/{prefix} ({exc}); check "
            "--endpoint-url, the network and AWS_DEFAULT_REGION"
        ) from exc
    return PublishSummary(bucket, prefix, uploaded, skipped, total, retain_until, versions)
