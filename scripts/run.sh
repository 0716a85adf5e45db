#!/usr/bin/env bash
# Sets everything up and runs the site at http://127.0.0.1:8000 on embedded
# defaults: SQLite, the in-memory channel layer, local media, demo content.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export DEBUG=${DEBUG:-true}
export DJANGO_SETTINGS_MODULE=blog_site.settings.base
mkdir -p var

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py load_demo
echo "==> serving http://127.0.0.1:8000 (admin: http://127.0.0.1:8000/admin/)"
# daphne with a graceful Ctrl-C/SIGTERM (blog_site/serve.py).
exec .venv/bin/python -m blog_site.serve -b 127.0.0.1 -p "${PORT:-8000}" blog_site.asgi:application
