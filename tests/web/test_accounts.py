"""Accounts in the application layer: sessions that run out, names in NFC, who may manage accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scanner.app import SYSTEM, Actor, Role, accounts
from scanner.archive import Catalog
from scanner.config import Config
from scanner.errors import InputError, LoginRefused, PermissionDenied
from tests.web.conftest import PASSWORD


def test_a_session_ends_after_a_working_day_without_a_request(web_config: Config) -> None:
    with Catalog(web_config.archive.catalog_path) as catalog:
        start = datetime.now().astimezone()
        done = accounts.log_in(catalog, "thu", PASSWORD, now=start)
        later = accounts.session_actor(catalog, done.token, now=start + timedelta(hours=1))
        assert later is not None and later.counter == "quay-1" and later.role is Role.CLERK
        assert accounts.session_actor(catalog, done.token, now=start + timedelta(hours=accounts.IDLE_HOURS + 2)) is None
        assert accounts.session_actor(catalog, done.token) is None  # ended for good, not only for that look
        assert accounts.session_actor(catalog, "khong-phai-phien") is None


def test_names_are_kept_in_nfc_and_only_an_administrator_manages_accounts(web_config: Config) -> None:
    decomposed = "tha\u0300nh"  # "thành" typed with a combining grave accent
    with Catalog(web_config.archive.catalog_path) as catalog:
        made = accounts.add_user(SYSTEM, catalog, name=decomposed, password=PASSWORD, role=Role.SUPERVISOR)
        assert made.name == "thành"
        assert accounts.log_in(catalog, decomposed, PASSWORD).actor.name == "thành"
        clerk = Actor("thu", Role.CLERK, counter="quay-1")
        with pytest.raises(PermissionDenied):
            accounts.add_user(clerk, catalog, name="moi", password=PASSWORD, role=Role.ADMIN)
        with pytest.raises(PermissionDenied):
            accounts.disable_user(clerk, catalog, "lan")
        with pytest.raises(InputError, match="cần có quầy"):
            accounts.add_user(SYSTEM, catalog, name="moi", password=PASSWORD, role=Role.CLERK)
        with pytest.raises(InputError, match="đã có"):
            accounts.add_user(SYSTEM, catalog, name="thu", password=PASSWORD, role=Role.AUDITOR)
        accounts.set_password(clerk, catalog, "thu", "mat-khau-rieng-cua-thu")  # one's own password: allowed
        with pytest.raises(PermissionDenied):
            accounts.set_password(clerk, catalog, "lan", "mat-khau-cua-lan-moi")
        log = catalog.audit_entries()
    assert ("user-add", "thành") in [(e.action, e.subject) for e in log]
    assert ("user-password", "thu") in [(e.action, e.subject) for e in log]
    assert not any("mat-khau" in f"{e.subject} {e.detail}" for e in log)  # no password in the log


def test_the_account_list_tells_locks_and_last_log_ins_and_an_administrator_lifts_them(web_config: Config) -> None:
    admin = Actor("quan-tri", Role.ADMIN, "Quản trị viên")
    with Catalog(web_config.archive.catalog_path) as catalog:
        for _ in range(accounts.MAX_FAILED_LOGINS):
            with pytest.raises(LoginRefused):
                accounts.log_in(catalog, "lan", "sai-mat-khau")
        accounts.log_in(catalog, "thu", PASSWORD)
        listed = {u.name: u for u in accounts.users(admin, catalog)}
        assert listed["lan"].locked and listed["lan"].last_login is None
        assert not listed["thu"].locked and listed["thu"].last_login
        later = datetime.now().astimezone() + timedelta(minutes=accounts.LOCK_MINUTES + 1)
        assert not {u.name: u for u in accounts.users(admin, catalog, now=later)}["lan"].locked  # the lock ran out

        assert not accounts.unlock_user(admin, catalog, "lan").locked
        accounts.log_in(catalog, "lan", PASSWORD)
        assert accounts.disable_user(admin, catalog, "lan").disabled
        with pytest.raises(LoginRefused, match="vô hiệu hóa"):
            accounts.log_in(catalog, "lan", PASSWORD)
        assert not accounts.enable_user(admin, catalog, "lan").disabled
        accounts.log_in(catalog, "lan", PASSWORD)
        with pytest.raises(InputError, match="chính mình"):
            accounts.disable_user(admin, catalog, "quan-tri")
        with pytest.raises(InputError, match="vai trò"):
            accounts.add_user(admin, catalog, name="x", password=PASSWORD, role="api")
        with pytest.raises(InputError, match="không có vai trò"):
            accounts.add_user(admin, catalog, name="x", password=PASSWORD, role="thu-ky")
        clerk = Actor("thu", Role.CLERK, counter="quay-1")
        for use_case in (accounts.unlock_user, accounts.enable_user):
            with pytest.raises(PermissionDenied):
                use_case(clerk, catalog, "lan")
        with pytest.raises(PermissionDenied):
            accounts.api_clients(clerk, catalog)
        log = [(e.action, e.subject, e.actor) for e in catalog.audit_entries()]
    assert ("user-unlock", "lan", "quan-tri (Quản trị viên)") in log
    assert ("user-enable", "lan", "quan-tri (Quản trị viên)") in log
