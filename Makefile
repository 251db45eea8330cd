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

# schemathesis, every check and phase, against a real gunicorn with a random seed it prints
# (reproduce: make fuzz SEED=n; more examples: MAX_EXAMPLES=n).
fuzz:
	bash scripts/services.sh up
	.venv/bin/python -m tests.fuzz $${SEED:+--seed $$SEED} $${MAX_EXAMPLES:+--max-examples $$MAX_EXAMPLES}

# 50 clients for 60 s against gunicorn (services must be up).
load:
	.venv/bin/python -m bench.load --clients 50 --seconds 60
