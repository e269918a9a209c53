from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import Secret, load_config, parse_config
from scanner.errors import ConfigError

MINIMAL = {
    "archive": {"root": "archive"},
    "counters": [
        {"name": "quay-1", "inbox": "inbox/q1", "agency_code": "000.00.00.H32", "agency_name": "Ủy ban nhân dân"}
    ],
}


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    cfg = parse_config(MINIMAL, base=tmp_path)
    assert cfg.archive.root == tmp_path / "archive"
    assert cfg.archive.catalog_path == tmp_path / "archive" / "catalog.sqlite"
    assert cfg.ocr.languages == ("vie",)
    assert cfg.pdfa.flavour == "2b"
    assert cfg.processes >= 1
    assert cfg.counter("quay-1").inbox == tmp_path / "inbox" / "q1"


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"pdfa": {"flavour": "3u"}}, "pdfa.flavour"),
        ({"workers": {"processes": -1}}, "workers.processes"),
        ({"ocr": {"languages": "vie"}}, "ocr.languages"),
        ({"archive": {"root": "a", "catalog": "postgres://x"}}, "archive.catalog"),
        ({"signing": {"level": "B-X"}}, "signing.level"),
        ({"archive": {"root": "a", "bogus": 1}}, "archive.bogus"),
        (
            {"counters": [{"name": "q", "inbox": "i", "agency_code": "h32 lower", "agency_name": "x"}]},
            "counters[0].agency_code",
        ),
        ({"counters": [{"name": "q", "inbox": "i", "agency_name": "x"}]}, "counters[0].agency_code"),
    ],
)
def test_errors_name_the_key_in_both_languages(tmp_path: Path, patch: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({**MINIMAL, **patch}, base=tmp_path)
    assert info.value.message_vi.startswith(key)
    assert info.value.message_en.startswith(key)
    assert info.value.exit_code == 2


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hỏng.toml"
    path.write_text("[archive\nroot=", encoding="utf-8")
    with pytest.raises(ConfigError, match="hỏng.toml"):
        load_config(path)


def test_password_from_env_then_file_and_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pw = tmp_path / "p.pass"
    pw.write_text("mật-khẩu-bí-mật\n", encoding="utf-8")
    cfg = parse_config(
        {**MINIMAL, "signing": {"pkcs12": "k.p12", "password_env": "X_PW", "password_file": "p.pass"}}, base=tmp_path
    )
    monkeypatch.delenv("X_PW", raising=False)
    secret = cfg.signing.password()
    assert secret.reveal() == "mật-khẩu-bí-mật"
    assert "mật" not in repr(secret) and "mật" not in str(cfg)
    monkeypatch.setenv("X_PW", "từ-biến-môi-trường")
    assert cfg.signing.password().reveal() == "từ-biến-môi-trường"
    assert repr(Secret("x")) == "Secret('***')"


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[archive]\nroot="a"\n[[counters]]\nname="q"\ninbox="i"\nagency_code="H32"\nagency_name="Sở"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SCANNER_CONFIG", str(path))
    assert load_config().counters[0].agency_code == "H32"
    monkeypatch.delenv("SCANNER_CONFIG")
    with pytest.raises(ConfigError, match="SCANNER_CONFIG"):
        load_config()


def test_the_commented_example_is_valid() -> None:
    from scanner.config import load_config as load

    cfg = load(Path(__file__).resolve().parent.parent / "config" / "scanner.toml")
    assert cfg.counters[0].name == "quay-1"
