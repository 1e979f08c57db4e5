"""The platform webhooks fuzzed with deliveries in the platforms' documented shapes, any field given
any value, signed with the platform's secret (most of them) so the fuzzing reaches past the check.

The OpenAPI document cannot describe a body that is read raw and signed, so Schemathesis supplies
the case and these deliveries its body; the checks are the same as test_openapi.py's.
"""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bench import platform_payloads as p
from tests.fuzz.schema import CHECKS, SCHEMA, Case
from tests.fuzz.target import Cases, Target
from tests.support.deliveries import deliveries

SIGNERS = {"/webhooks/meta": p.signed_meta, "/webhooks/x": p.signed_x}
PLATFORMS = {"/webhooks/meta": "meta", "/webhooks/x": "x"}
# Most deliveries are signed with the right secret; some with another one, some not at all.
signings = st.integers(0, 9).map(lambda n: {5: "unsigned", 6: "wrong secret"}.get(n, "signed"))

pytestmark = pytest.mark.slow


@SCHEMA.include(path_regex="^/webhooks/", method="POST").parametrize()
@SCHEMA.given(meta=deliveries(("meta",)), x=deliveries(("x",)), signing=signings)
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_delivery_gets_a_server_error_or_an_undocumented_answer(
    case: Case,
    meta: tuple[str, dict[str, Any]],
    x: tuple[str, dict[str, Any]],
    signing: str,
    target: Target,
    cases: Cases,
) -> None:
    delivery = meta[1] if PLATFORMS[case.operation.path] == "meta" else x[1]
    if signing == "unsigned":
        body, headers = json.dumps(delivery).encode(), {"Content-Type": "application/json"}
    else:
        secret = {"wrong secret": "another secret"}.get(signing)
        signer = SIGNERS[case.operation.path]
        body, headers = signer(delivery, secret) if secret else signer(delivery)
    cases.count(case.operation.label, signing)
    case.call_and_validate(base_url=target.base_url, session=target.http, headers=headers, checks=CHECKS, data=body)
