"""Genesys Cloud regions and the base URLs derived from them (docs/genesys-api.md §1.4)."""

from __future__ import annotations

import re

from gcevidence.errors import UsageError

DEFAULT_REGION = "us-east-1"

# Region name -> API host, exactly as the official SDK's purecloud_region_hosts.py lists them.
REGION_HOSTS: dict[str, str] = {
    "us-east-1": "api.mypurecloud.com",
    "us-east-2": "api.use2.us-gov-pure.cloud",
    "us-west-2": "api.usw2.pure.cloud",
    "ca-central-1": "api.cac1.pure.cloud",
    "sa-east-1": "api.sae1.pure.cloud",
    "mx-central-1": "api.mxc1.pure.cloud",
    "eu-west-1": "api.mypurecloud.ie",
    "eu-west-2": "api.euw2.pure.cloud",
    "eu-central-1": "api.mypurecloud.de",
    "eu-central-2": "api.euc2.pure.cloud",
    "eusc-de-east-1": "api.edee1.eusc-pure.cloud",
    "me-central-1": "api.mec1.pure.cloud",
    "ap-south-1": "api.aps1.pure.cloud",
    "ap-southeast-1": "api.apse1.pure.cloud",
    "ap-southeast-2": "api.mypurecloud.com.au",
    "ap-northeast-1": "api.mypurecloud.jp",
    "ap-northeast-2": "api.apne2.pure.cloud",
    "ap-northeast-3": "api.apne3.pure.cloud",
}


def api_base_for_region(region: str) -> str:
    """https://api.<domain> for a region name; UsageError listing the valid names otherwise."""
    host = REGION_HOSTS.get(region.strip().lower())
    if host is None:
        raise UsageError(
            f"unknown Genesys Cloud region {region!r}; use one of: {', '.join(REGION_HOSTS)} "
            "(GENESYSCLOUD_REGION or org.region), or set org.api_base_url"
        )
    return f"https://{host}"


def login_base_for(api_base_url: str) -> str:
    """The token host the way the SDK derives it: `//api.` -> `//login.`, else unchanged."""
    return re.sub(r"//api\.", "//login.", api_base_url.rstrip("/"), count=1)


def resolve_bases(
    api_base_url: str | None, login_base_url: str | None, region: str | None
) -> tuple[str, str, str | None]:
    """(api base, login base, region name or None): an explicit URL wins over a region."""
    if api_base_url:
        api = api_base_url.rstrip("/")
        return api, (login_base_url or login_base_for(api)).rstrip("/"), region
    region = region or DEFAULT_REGION
    api = api_base_for_region(region)
    return api, (login_base_url or login_base_for(api)).rstrip("/"), region.strip().lower()
