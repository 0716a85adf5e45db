#!/usr/bin/env bash
# Lighthouse (mobile preset) against a running site; prints the four category
# scores per page. The suite runs the same audit in tests/site/test_lighthouse.py
# (see README, "Site experience"); this script is for any running site.
#   scripts/lighthouse.sh http://127.0.0.1:8000 / /posts/<category>/<slug>/ /talk/
# Needs: scripts/setup.sh --dev (npm ci: package-lock.json pins lighthouse
# 12.2.3) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/lighthouse.sh BASE_URL PATH...}
shift
[[ -x node_modules/.bin/lighthouse ]] || scripts/setup.sh --dev
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
out=test-artifacts/lighthouse
mkdir -p "$out"
for path in "$@"; do
  name=$(echo "$path" | tr -c 'a-zA-Z0-9\n' '_')
  node_modules/.bin/lighthouse "$base$path" --quiet --output=json --output-path="$out/$name.json" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless --no-sandbox --disable-gpu --disable-background-networking" >/dev/null
  node -e '
    const r = require(process.argv[1]);
    const s = Object.values(r.categories).map((c) => `${c.id}=${Math.round(c.score * 100)}`);
    console.log(process.argv[2].padEnd(40), s.join(" "));
  ' "$PWD/$out/$name.json" "$path"
done
