"""schemathesis hooks for `make fuzz` (tests/fuzz.py sets SCHEMATHESIS_HOOKS to this file).

Every request gets a fresh admin token: operations under test end or replace the caller's session
(POST /auth/logout/, POST or DELETE /session/{user_id}/), which would turn the rest of the run
into 401s.
"""

import os

import httpx
import schemathesis


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
