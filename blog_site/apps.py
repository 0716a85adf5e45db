"""App configs of the project package itself."""

from __future__ import annotations

from django.contrib.staticfiles.apps import StaticFilesConfig


class SiteStaticFilesConfig(StaticFilesConfig):
    """collectstatic and the finders skip the SCSS sources: only the CSS
    compiled from them at build (static/css) is served."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "scss"]
