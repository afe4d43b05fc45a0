"""The pack commands: verify, publish, keygen."""

from __future__ import annotations

import argparse
from pathlib import Path

from gcevidence.pack.publish import DEFAULT_RETAIN_DAYS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `verify`, `publish` and `keygen` to the gcevidence command line."""
    p = subparsers.add_parser(
        "verify",
        help="re-hash a sealed pack against its manifest and check its signature",
        description="Exit 0 when every file matches the manifest (and the signature, when "
        "there is one, is valid) and every reviewer sign-off beside the pack "
        "(PACK_DIR.signoff/) is valid; 1 naming every missing, added or changed file or "
        "invalid sign-off.",
    )
    p.add_argument("pack_dir", metavar="PACK_DIR", type=Path)
    p.add_argument(
        "--public-key",
        metavar="PEM",
        type=Path,
        help="require a signature by this Ed25519 public key (keygen's PATH.pub)",
    )
    p.set_defaults(func=run_verify)

    p = subparsers.add_parser(
        "publish",
        help="upload a sealed pack to S3 with Object Lock (compliance mode)",
        description="Verifies the pack, uploads every file with compliance-mode retention, "
        "re-reads each and compares digests. AWS credentials come from the usual "
        "AWS environment variables or config files.",
    )
    p.add_argument("pack_dir", metavar="PACK_DIR", type=Path)
    p.add_argument("--s3-uri", required=True, metavar="s3://BUCKET/PREFIX")
    p.add_argument(
        "--retain-days",
        type=int,
        default=DEFAULT_RETAIN_DAYS,
        metavar="N",
        help=f"keep each object locked for N days (default {DEFAULT_RETAIN_DAYS})",
    )
    p.add_argument("--endpoint-url", metavar="URL", help="an S3-compatible endpoint instead of AWS")
    p.set_defaults(func=run_publish)

    p = subparsers.add_parser(
        "keygen",
        help="create an Ed25519 key pair for signing packs",
        description="Writes the private key to PATH (mode 0600) and the public key to "
        "PATH.pub; point params signing.key at PATH and give auditors PATH.pub.",
    )
    p.add_argument("--out", required=True, metavar="PATH", type=Path)
    p.set_defaults(func=run_keygen)


def run_verify(args: argparse.Namespace) -> int:
    """Print one line per problem; exit 0 intact, 1 otherwise."""
    from gcevidence.pack.sign import load_public_key
    from gcevidence.pack.verify import verify_pack

    key = load_public_key(args.public_key) if args.public_key else None
    report = verify_pack(args.pack_dir, key)
    for label, paths in (
        ("missing", report.missing),
        ("added", report.added),
        ("changed", report.changed),
    ):
        for path in paths:
            print(f"{label}: {path}")
    for problem in report.problems:
        print(f"problem: {problem}")
    if report.signature == "valid":
        print(f"signature: valid, signed by key {report.key_id}")
    elif report.signature == "invalid":
        print(f"signature: INVALID (key {report.key_id or 'unknown'})")
    else:
        print("signature: absent (the pack is not signed)")
    signoffs_ok = _print_signoffs(args.pack_dir)
    if report.ok and signoffs_ok:
        print(f"OK: {report.files_checked} files intact, content digest {report.content_digest}")
        return 0
    if report.ok:
        print(f"FAILED: a reviewer sign-off beside {args.pack_dir} does not verify")
        return 1
    print(f"FAILED: {args.pack_dir} does not match its manifest")
    return 1


def _print_signoffs(pack_dir: Path) -> bool:
    """One line per reviewer sign-off beside the pack (none: no line); True when all valid."""
    from gcevidence.pack.signoff import check_signoffs

    checks = check_signoffs(pack_dir)
    for c in checks:
        who = f"{c.reviewer} ({c.role}) on {c.date}" if c.reviewer else "unknown reviewer"
        if c.status == "valid":
            print(f"sign-off: valid, {who}, key {c.key_id}, {c.file}")
        else:
            print(f"sign-off: INVALID, {who}, key {c.key_id or 'unknown'}, {c.file}: {c.problem}")
    return all(c.status == "valid" for c in checks)


def run_publish(args: argparse.Namespace) -> int:
    """Upload and re-read; exit 0 when every object is stored, locked and identical."""
    from gcevidence.pack.publish import publish_pack

    summary = publish_pack(args.pack_dir, args.s3_uri, args.retain_days, args.endpoint_url)
    print(
        f"published s3://{summary.bucket}/{summary.prefix}: {summary.uploaded} uploaded, "
        f"{summary.skipped} already there, {summary.bytes} bytes, locked in compliance "
        f"mode until {summary.retain_until:%Y-%m-%dT%H:%M:%SZ}; every object re-read "
        "and its sha256 matched"
    )
    return 0


def run_keygen(args: argparse.Namespace) -> int:
    """Write the key pair and say how to use it."""
    from gcevidence.pack.sign import keygen

    private, public, key_id = keygen(args.out)
    print(f"private key: {private} (keep it secret; params: signing: {{key: {private}}})")
    print(
        f"public key:  {public} (give it to auditors: gcevidence verify PACK --public-key {public})"
    )
    print(f"key id:      {key_id}")
    return 0
