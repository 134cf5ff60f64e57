"""The public information pages: a static site built from the bi aggregates every analyst may read."""
from lienthong.site.build import build_site, site_folder
from lienthong.site.data import SiteDataError

__all__ = ["SiteDataError", "build_site", "site_folder"]
