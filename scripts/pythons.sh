# Sourced by the setup scripts: find the two interpreters weiyuan needs.
# Rasa 3.6 runs only on Python 3.10; everything else uses Python 3.11.
find_python() {
  local version=$1 candidate
  for candidate in "python$version" \
                   "$(pyenv root 2>/dev/null)/versions/$version"*/bin/"python$version" \
                   /root/.pyenv/versions/"$version"*/bin/"python$version" \
                   /usr/local/bin/"python$version" /usr/bin/"python$version"; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  echo "error: Python $version not found (weiyuan needs 3.11 for the app and 3.10 for Rasa)" >&2
  return 1
}
PY311=${PY311:-$(find_python 3.11)}
PY310=${PY310:-$(find_python 3.10)}
export PY311 PY310
