"""The OpenAPI document Schemathesis generates cases from, and the checks every answer passes."""

from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.main import create_app
from app.settings import Settings

# Schemathesis cases of the operations of an OpenAPI document.
Case = schemathesis.Case[Any]
SEED = 18
CHECKS = [not_a_server_error, response_schema_conformance]
SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(environment="test")).openapi(),
    config=schemathesis.Config.from_dict({"seed": SEED}),
)
