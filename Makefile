# shopsite: `make run` serves http://localhost:7000 with all its services; `make test` runs every test.
.PHONY: run test test-cluster setup services-up services-down services-status lint format fuzz load

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# Multi-node stores as processes (scripts/cluster.sh: a 3-node Cassandra ring, Redis primary +
# replica + 3 Sentinels): failover tests, a few minutes and a few GiB; stopped when done.
test-cluster:
	SHOPSITE_CLUSTER_TESTS=1 bash scripts/test.sh -m cluster tests/cluster

setup:
	bash scripts/bootstrap.sh

services-up:
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

services-status:
	bash scripts/services.sh status

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

# A longer schemathesis pass than the test suite's (services must be up: make services-up).
fuzz:
	SCHEMATHESIS_MAX_EXAMPLES=$${SCHEMATHESIS_MAX_EXAMPLES:-300} .venv/bin/python -m pytest tests/test_schemathesis.py -q

# 50 clients for 60 s against gunicorn (services must be up).
load:
	.venv/bin/python -m bench.load --clients 50 --seconds 60
