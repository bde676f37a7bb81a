#!/usr/bin/env bash
# `make run`: set everything up (cached), refresh the knowledge index (incremental),
# train the Rasa model if its inputs changed, then start Rasa, the action server and
# the web gateway on embedded defaults (SQLite, local index files) and print the URLs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app rasa assets
.venv/bin/weiyuan index refresh
exec .venv/bin/weiyuan serve
