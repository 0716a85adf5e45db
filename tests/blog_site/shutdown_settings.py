"""Settings for the shutdown drill's daphne processes: the test settings plus
one slow view (tests/blog_site/shutdown_urls.py), which production lacks."""

from blog_site.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.blog_site.shutdown_urls"
