#!/usr/bin/env bash
# Installs everything the project needs on a Debian machine: system packages
# (only those missing), a virtualenv in .venv and the pinned requirements.
#   scripts/setup.sh         runtime requirements (the run command)
#   scripts/setup.sh --dev   plus test tools, Chromium, CJK fonts and Lighthouse
# Both compile the translation catalogues and the SCSS (build output, not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

apt_packages=(gcc pkg-config libmariadb-dev python3-venv)
# gettext: msgfmt compiles the translation catalogues (locale/*.po) below.
apt_packages+=(gettext)
# Node runs dart-sass at build (and Lighthouse in the tests); Debian's nodejs
# only where the machine has none.
command -v npm >/dev/null || apt_packages+=(nodejs npm)
if (( dev )); then
  # Debian's Chromium for Playwright (never a downloaded browser) and CJK
  # fonts, without which Hangul renders as boxes in screenshots.
  apt_packages+=(chromium fonts-noto-cjk)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "==> installing system packages: ${missing[*]}"
  sudo_cmd=()
  (( EUID != 0 )) && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

req=requirements.txt
(( dev )) && req=requirements-dev.txt
stamp=.venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)-$dev
if [[ ! -f "$stamp" ]]; then
  echo "==> installing Python packages from $req"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Translation catalogues are compiled here, not committed: a .po edit takes
# effect on the next run. posts/locale ships its own compiled catalogue.
for po in locale/*/LC_MESSAGES/*.po; do
  mo=${po%.po}.mo
  if [[ ! -f "$mo" || "$po" -nt "$mo" ]]; then
    msgfmt --check-format -o "$mo" "$po"
  fi
done

# Node packages pinned in package-lock.json: dart-sass for every run, plus
# Lighthouse (the audit in tests/site/test_lighthouse.py) with --dev.
npm_stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)-$dev
if [[ ! -f "$npm_stamp" ]]; then
  echo "==> installing Node packages from package-lock.json"
  npm_args=(--no-audit --no-fund --ignore-scripts)
  (( dev )) || npm_args+=(--omit=dev)
  npm ci "${npm_args[@]}" >/dev/null
  touch "$npm_stamp"
fi

# The stylesheets are compiled from static/scss here, not committed.
scripts/build_css.sh
