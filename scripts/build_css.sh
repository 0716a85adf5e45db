#!/usr/bin/env bash
# Compiles the site's SCSS (static/scss) to static/css with dart-sass, pinned
# in package.json/package-lock.json. The CSS is build output (gitignored):
# scripts/setup.sh runs this, and so does the Dockerfile before collectstatic;
# nothing compiles at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x node_modules/.bin/sass ]] || npm ci --omit=dev --no-audit --no-fund --ignore-scripts
node_modules/.bin/sass --no-source-map --style=compressed --no-error-css \
  static/scss/site.scss:static/css/site.css \
  static/scss/print.scss:static/css/print.css
