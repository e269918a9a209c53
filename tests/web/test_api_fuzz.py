"""Schemathesis against the API's own OpenAPI 3.1 document, in process (ASGI): no request makes a server error.

Every operation is called with generated valid and invalid input by a
calling system of one agency, over a workstation holding a record of that
agency and one of another; the only check is the one that matters here:
no 5xx. (Invalid input must be answered 4xx with a reason, never a crash.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from scanner.app import SYSTEM, accounts
from scanner.archive import Catalog
from scanner.config import Config
from scanner.web import create_app
from tests.web.conftest import AGENCY_A, AGENCY_B
from tests.web.test_api import _file


@pytest.fixture
def api_setup(web_config: Config) -> Iterator[tuple[object, str]]:
    _file(web_config, f"{AGENCY_A}-261124-0001", AGENCY_A, "giấy khai sinh Nguyễn Văn An")
    _file(web_config, f"{AGENCY_B}-261124-0001", AGENCY_B, "giấy khai sinh Trần Thị Bình")
    with Catalog(web_config.archive.catalog_path) as catalog:
        token = accounts.add_api_client(SYSTEM, catalog, "mot-cua", AGENCY_A).token
    app = create_app(web_config)
    with TestClient(app):  # runs the app's lifespan around the whole run
        yield app, token


def test_no_request_makes_a_server_error(api_setup: tuple[object, str]) -> None:
    """Each operation in turn (schemathesis' pytest loader is not used: it does not run under this pytest)."""
    app, token = api_setup
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        run()
