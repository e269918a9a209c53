"""The [signing] keys of issue 5: TSA, PKCS#11 token, visible mark; each error names its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.config import ConfigError, parse_config
from scanner.config import SigningConfig as _SigningConfig


def _config(tmp_path: Path, **signing: Any) -> _SigningConfig:
    data = {
        "archive": {"root": "archive"},
        "counters": [{"name": "quay-1", "inbox": "inbox", "agency_code": "000.00.01.H29", "agency_name": "UBND"}],
        "signing": signing,
    }
    return parse_config(data, base=tmp_path).signing


def _error(tmp_path: Path, **signing: Any) -> str:
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, **signing)
    return f"{err.value.message_vi} | {err.value.message_en}"


def test_defaults_sign_b_b_offline_with_the_visible_mark(tmp_path: Path) -> None:
    s = _config(tmp_path, pkcs12="keys/a.p12", password_env="P")
    assert s.level == "B-B" and s.tsa_url == "" and s.pkcs11_module is None
    assert s.visible and s.mark_text == "SAO Y" and s.mark_agency == ""


def test_token_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _config(
        tmp_path,
        pkcs11_module="/usr/lib/softhsm/libsofthsm2.so",
        token_label="Kho lưu trữ Sở Tư pháp",
        key_id="a1:B2:c3",
        pin_env="TOKEN_PIN",
        level="B-LTA",
        tsa_url="https://tsa.example.vn/tsa",
        trust_roots=["keys/root.pem"],
    )
    assert s.key_id == bytes.fromhex("a1b2c3") and s.token_label == "Kho lưu trữ Sở Tư pháp"
    monkeypatch.setenv("TOKEN_PIN", "123456")
    assert s.pin().reveal() == "123456" and "123456" not in repr(s.pin())


@pytest.mark.parametrize(
    ("signing", "key"),
    [
        ({"level": "B-T"}, "signing.tsa_url"),
        ({"level": "B-LT", "tsa_url": "http://127.0.0.1/tsa"}, "signing.trust_roots"),
        ({"tsa_url": "ftp://tsa"}, "signing.tsa_url"),
        ({"pkcs12": "a.p12", "pkcs11_module": "/x.so"}, "signing.pkcs11_module"),
        ({"pkcs11_module": "/x.so", "key_id": "01", "pin_env": "P"}, "signing.token_label"),
        ({"pkcs11_module": "/x.so", "token_label": "T", "pin_env": "P"}, "signing.key_id"),
        (
            {"pkcs11_module": "/x.so", "token_label": "T", "key_id": "01", "key_label": "K", "pin_env": "P"},
            "signing.key_id",
        ),
        ({"pkcs11_module": "/x.so", "token_label": "T", "key_id": "xyz", "pin_env": "P"}, "signing.key_id"),
        ({"pkcs11_module": "/x.so", "token_label": "T", "key_id": "01"}, "signing.pin_env"),
        ({"visible": "yes"}, "signing.visible"),
        ({"mark_text": " "}, "signing.mark_text"),
        ({"pin": "123456"}, "signing.pin"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, signing: dict[str, Any], key: str) -> None:
    message = _error(tmp_path, **signing)
    assert message.startswith(key) and f"| {key}" in message
    assert "123456" not in message


def test_missing_pin_is_a_config_error_without_a_value(tmp_path: Path) -> None:
    s = _config(tmp_path, pkcs11_module="/x.so", token_label="T", key_id="01", pin_env="KHONG_CO_BIEN_NAY")
    with pytest.raises(ConfigError) as err:
        s.pin()
    assert "KHONG_CO_BIEN_NAY" in err.value.message_vi
