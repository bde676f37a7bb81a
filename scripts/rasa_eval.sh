#!/usr/bin/env bash
# Evaluate the dialogue layer and keep the reports under results/:
#   rasa data validate, rasa test nlu (held-out split), rasa test core (test stories).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore
model=$(scripts/rasa_model.sh)
echo "==> rasa data validate"
.venv-rasa/bin/rasa data validate --config config.yml --domain bot/domain.yml --data bot/data --fail-on-warnings
echo "==> rasa test nlu on bot/tests/nlu_holdout.yml (never trained on)"
rm -rf results/nlu && mkdir -p results
.venv-rasa/bin/rasa test nlu --model "$model" --nlu bot/tests/nlu_holdout.yml --out results/nlu --successes >/dev/null
echo "==> rasa test nlu on eval/nlu_blind_test.yml (written without seeing any training data)"
rm -rf results/nlu_blind
.venv-rasa/bin/rasa test nlu --model "$model" --nlu eval/nlu_blind_test.yml --out results/nlu_blind --successes >/dev/null
echo "==> rasa test core on bot/tests/test_stories.yml"
rm -rf results/core
.venv-rasa/bin/rasa test core --model "$model" --stories bot/tests/test_stories.yml --out results/core \
  --endpoints bot/endpoints.yml >/dev/null 2>&1 || true
.venv/bin/python scripts/summarize_rasa_results.py results
