# The two commands a newcomer needs: `make run` and `make test`. Both build what they need first.
.PHONY: run test setup

run: setup
	.venv/bin/carebridge up

test:
	scripts/test.sh

setup:
	scripts/setup.sh
