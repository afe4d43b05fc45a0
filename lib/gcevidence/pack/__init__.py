"""The evidence pack: build and seal, manifest, signature, verify, publish, secret scan."""

from gcevidence.pack.build import PackBuilder

__all__ = ["PackBuilder"]
