"""The OpenAPI document Schemathesis generates cases from, and the checks every answer passes."""

from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.core.settings import Settings
from app.main import create_app

# Schemathesis cases of the operations of an OpenAPI document.
Case = schemathesis.Case[Any]
SEED = 18
CHECKS = [not_a_server_error, response_schema_conformance]
DOCUMENT = create_app(Settings(environment="test")).openapi()
# Generated cases (Hypothesis's fuzzing phase), each with the extra draws a test asks for.
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict({"seed": SEED}))
# Schemathesis's coverage phase alone: each parameter's and field's boundary values, missing and
# wrong-typed ones, one case each (it takes no extra draws, so these go out as an admin).
COVERAGE = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {"seed": SEED, "phases": {"examples": {"enabled": False}, "fuzzing": {"enabled": False}}}
    ),
)
