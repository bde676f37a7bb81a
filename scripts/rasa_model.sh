#!/usr/bin/env bash
# Train the Rasa model if config, domain, training data or lexicon changed; print its path.
# The model is cached under var/rasa/models/ by a hash of everything that shapes it.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore
inputs=$(find config.yml bot/domain.yml bot/data knowledge/lexicon requirements/rasa.lock -type f | LC_ALL=C sort)
hash=$(cat $inputs | sha256sum | cut -c1-16)
model="var/rasa/models/weiyuan-$hash.tar.gz"
# One training at a time: a second caller (the test session's early start, `weiyuan serve`)
# waits here and then finds the model the first one trained.
mkdir -p var/rasa
exec 9>var/rasa/.train.lock
flock 9
if [ ! -f "$model" ]; then
  echo "==> training the Rasa model (inputs changed; about 2-4 minutes)" >&2
  mkdir -p var/rasa/models
  .venv-rasa/bin/rasa telemetry disable >/dev/null 2>&1 || true
  .venv-rasa/bin/rasa train --config config.yml --domain bot/domain.yml --data bot/data \
    --out var/rasa/models --fixed-model-name "weiyuan-$hash" >var/rasa/train.log 2>&1 \
    || { tail -40 var/rasa/train.log >&2; echo "Rasa training failed (log: var/rasa/train.log)" >&2; exit 1; }
  # keep the three newest models
  ls -1t var/rasa/models/weiyuan-*.tar.gz | tail -n +4 | xargs -r rm -f
fi
echo "$model"
