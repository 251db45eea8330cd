"""schemathesis hooks for `make fuzz` (tests/fuzz.py sets SCHEMATHESIS_HOOKS to this file).

positive_data_acceptance_by_contract replaces schemathesis' positive_data_acceptance, excusing
only the refusals the API contract requires (see below).

Every request gets a fresh admin token: operations under test end or replace the caller's session
(POST /auth/logout/, POST or DELETE /session/{user_id}/), which would turn the rest of the run
into 401s.
"""

import os

import httpx
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz_contract import contract_refusal


@schemathesis.auth(refresh_interval=None)
class FreshAdminToken:
    def get(self, case, ctx):
        response = httpx.post(
            os.environ["FUZZ_URL"] + "/auth/login/",
            json={"username": os.environ["FUZZ_USERNAME"], "password": os.environ["FUZZ_PASSWORD"]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["session_token"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.check
def positive_data_acceptance_by_contract(ctx, response, case):
    """positive_data_acceptance, but for the refusals tests/fuzz_contract.py names."""
    if contract_refusal(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)
