"""A web workstation for the tests: two counters of two agencies, people of every role, a client per request.

The app runs in process (Starlette's TestClient); the browser test starts a
real server of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scanner.app import SYSTEM, Role, accounts
from scanner.archive import Catalog
from scanner.config import Config, load_config
from scanner.web import create_app

PASSWORD = "mat-khau-thu-nghiem"
AGENCY_A = "000.00.00.H32"
AGENCY_B = "000.00.00.H26"

SECOND_COUNTER = f"""
[[counters]]
name = "quay-2"
inbox = "inbox/quay-2"
agency_code = "{AGENCY_B}"
agency_name = "Ủy ban nhân dân phường Hàng Bạc"
procedure_code = ""
poll_seconds = 0
settle_seconds = 1
"""

PEOPLE = {
    "thu": dict(role=Role.CLERK, display_name="Nguyễn Thị Thu", counter="quay-1"),
    "lan": dict(role=Role.CLERK, display_name="Trần Thị Lan", counter="quay-2"),
    "minh": dict(role=Role.OFFICER, display_name="Lê Văn Minh", agency=AGENCY_A),
    "quan-tri": dict(role=Role.ADMIN, display_name="Quản trị viên"),
}


def add_people(config: Config) -> None:
    with Catalog(config.archive.catalog_path) as catalog:
        for name, person in PEOPLE.items():
            accounts.add_user(SYSTEM, catalog, name=name, password=PASSWORD, **person)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: the tests check the rules around hashing, not the hash's strength."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def web_config(workstation: Path) -> Config:
    text = workstation.read_text(encoding="utf-8")
    head, sep, tail = text.partition("\n[[counters]]")
    # the second counter goes right after the first one's table
    first_end = tail.find("\n[")
    tail = tail[:first_end] + "\n" + SECOND_COUNTER + tail[first_end:] if first_end >= 0 else tail + SECOND_COUNTER
    workstation.write_text(head + sep + tail, encoding="utf-8")
    config = load_config(workstation)
    add_people(config)
    return config


@pytest.fixture
def app_client(web_config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(web_config), follow_redirects=False) as client:
        yield client


def csrf(client: TestClient) -> str:
    """The CSRF token a page hands out (and the cookie that goes with it, kept by the client)."""
    r = client.get("/dang-nhap")
    assert r.status_code == 200
    token = client.cookies.get("csrftoken")
    assert token
    return token


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    token = csrf(client)
    r = client.post("/dang-nhap", data={"name": name, "password": password, "csrftoken": token})
    assert r.status_code == 303, r.text
    return token
