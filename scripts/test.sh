#!/usr/bin/env bash
# `make test` (and CI): set up (cached), lint, type-check, run every test.
# Everything runs for real: the embedding model, Rasa (trained if its inputs changed),
# the action server, the gateway, headless chromium, and the local PostgreSQL/Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app rasa browser assets
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> import-linter (imports only point down the layers)"
.venv/bin/lint-imports --no-cache
echo "==> pytest"
# the slowest tests are listed at the end, so that the suite's time can be watched from the CI log
exec .venv/bin/python -m pytest -p no:cacheprovider --durations=15 "$@"
