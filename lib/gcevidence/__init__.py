"""gcevidence: auditor-ready compliance evidence from a Genesys Cloud org."""

__version__ = "0.1.0"
