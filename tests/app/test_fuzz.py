"""Schemathesis against the app's own /openapi.json: every operation (the upload included) with generated valid
and invalid requests. No answer may be a 5xx, every status must be one the schema documents, and every body
must match its documented schema. Bounded: FUZZ_EXAMPLES cases per operation and generation mode."""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.app.conftest import MAX_TOKENS, make_models

FUZZ_EXAMPLES = int(os.environ.get("GATESCOPE_FUZZ_EXAMPLES", "40"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    """The schema of a fresh app over the test models, requests sent to it in-process (ASGI)."""
    from app.main import create_app
    from app.settings import Settings

    d = tmp_path_factory.mktemp("fuzz-models")
    make_models(d)
    app = create_app(Settings(model_dir=d, max_tokens=MAX_TOKENS, max_upload_bytes=1 << 20))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_keeps_its_schema_and_never_fails(case):
    case.call_and_validate(checks=CHECKS)
