# shopsite: `make run` serves http://localhost:7000 with all its services; `make test` runs every test.
.PHONY: run test setup services-up services-down services-status lint format bench

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

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
