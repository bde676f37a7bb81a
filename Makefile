# The two commands a new user needs (see README.md):
#   make run    set everything up and run weiyuan on embedded defaults
#   make test   set everything up and run the whole test suite (what CI runs)
.PHONY: run test setup lint bench calibrate eval

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh app

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/lint-imports --no-cache

eval:
	.venv/bin/weiyuan eval retrieval --split dev
	.venv/bin/weiyuan eval retrieval --split test

calibrate:
	.venv/bin/weiyuan eval calibrate

bench:
	.venv/bin/python -m bench.run_all
