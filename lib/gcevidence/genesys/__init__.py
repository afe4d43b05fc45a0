"""The Genesys Cloud Platform API client: HTTP only, no knowledge of datasets."""

from gcevidence.genesys.auth import Credentials
from gcevidence.genesys.http import ApiResponse, GenesysClient
from gcevidence.genesys.regions import REGION_HOSTS

__all__ = ["REGION_HOSTS", "ApiResponse", "Credentials", "GenesysClient"]
