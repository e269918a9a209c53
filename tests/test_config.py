from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from scanner.config import ReviewMode, Secret, load_config, parse_config, render_template, template_text
from scanner.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "scanner.toml"

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
        (
            {
                "counters": [
                    *MINIMAL["counters"],
                    {"name": "q2", "inbox": "i", "agency_code": "H32", "agency_name": "x", "settle_seconds": "2"},
                ]
            },
            "counters[1].settle_seconds",
        ),
        (
            {"counters": [{"name": "q", "inbox": "i", "agency_code": "H32", "agency_name": "x", "settle_seconds": -1}]},
            "counters[0].settle_seconds",
        ),
        (
            {"counters": [{"name": "q", "inbox": "i", "agency_code": "H32", "agency_name": "x", "quay": "1"}]},
            "counters[0].quay",
        ),
        (
            {
                "counters": [
                    {"name": "q", "inbox": "i", "agency_code": "H32", "agency_name": "x", "procedure_code": "1.1"}
                ]
            },
            "counters[0].procedure_code",
        ),
        (
            {"counters": [{"name": "q", "inbox": "i", "agency_code": "ABCDEF", "agency_name": "x"}]},
            "counters[0].agency_code",
        ),
        ({"capture": {"blank_ink": 1.5}}, "capture.blank_ink"),
        ({"capture": {"max_attempts": 0}}, "capture.max_attempts"),
        ({"capture": {"max_attempts": True}}, "capture.max_attempts"),
        ({"clean": {"deskew": "yes"}}, "clean.deskew"),
        ({"review": {"mode": "sometimes"}}, "review.mode"),
        ({"review": {"mode": "flagged", "timeout": 3}}, "review.timeout"),
        ({"review": "flagged"}, "review"),
        ({"bogus": {}}, "bogus"),
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


def test_the_example_is_the_template_rendered_with_its_own_values() -> None:
    """One template: what `scanner init` writes and the documented example cannot drift apart.

    After editing scanner/config_template.toml, regenerate the example with
    ``render_template`` and the values below.
    """
    example = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(example)
    counter, signing = data["counters"][0], data["signing"]
    rendered = render_template(
        agency=counter["agency_code"],
        agency_name=counter["agency_name"],
        pkcs12=signing["pkcs12"],
        ca=signing["trust_roots"][0],
    )
    assert rendered == example


def test_every_section_of_the_loader_is_documented_in_the_template() -> None:
    from scanner.config import Config

    text = template_text()
    for section in ("archive", "capture", "ocr", "clean", "pdfa", "review", "signing", "workers"):
        assert f"[{section}]" in text, section
    assert "[[counters]]" in text
    assert set(Config.__dataclass_fields__) >= {"review", "capture", "clean"}


def test_the_rendered_template_loads_and_keeps_awkward_names_exactly(tmp_path: Path) -> None:
    name = 'Ủy ban nhân dân xã "Tân Thành" \\ thôn 2'
    text = render_template(agency="H32.12", agency_name=name, pkcs12="/keys/a b.p12", ca="keys/ca.pem")
    path = tmp_path / "scanner.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    counter = cfg.counters[0]
    assert (counter.agency_code, counter.agency_name) == ("H32.12", name)
    assert cfg.signing.pkcs12 == Path("/keys/a b.p12")
    assert cfg.signing.trust_roots == (tmp_path / "keys" / "ca.pem",)
    assert cfg.review.mode is ReviewMode.FLAGGED


def test_the_template_ships_with_the_package() -> None:
    """Read through importlib.resources, as an installed package reads it (pyproject lists it as package data)."""
    pyproject = tomllib.loads((EXAMPLE.parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "config_template.toml" in pyproject["tool"]["setuptools"]["package-data"]["scanner"]
    assert "${agency}" in template_text()


@pytest.mark.parametrize("mode", list(ReviewMode))
def test_review_mode(tmp_path: Path, mode: ReviewMode) -> None:
    cfg = parse_config({**MINIMAL, "review": {"mode": mode.value}}, base=tmp_path)
    assert cfg.review.mode is mode and cfg.review.mode.label_vi


def test_review_defaults_to_flagged(tmp_path: Path) -> None:
    assert parse_config(MINIMAL, base=tmp_path).review.mode is ReviewMode.FLAGGED


def test_tesseract_languages_include_osd_only_when_pages_are_turned(tmp_path: Path) -> None:
    assert parse_config(MINIMAL, base=tmp_path).tesseract_languages == ("vie", "osd")
    cfg = parse_config(
        {**MINIMAL, "clean": {"orientation": False}, "ocr": {"languages": ["vie", "eng"]}}, base=tmp_path
    )
    assert cfg.tesseract_languages == ("vie", "eng")


def test_catalog_url_chooses_postgresql_and_its_password_stays_out_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://scanner_service@csdl.tinh.gov.vn/scanner"
    data = {**MINIMAL, "catalog": {"url": url, "password_env": "MAT_KHAU_DANH_MUC"}}
    cfg = parse_config(data, base=tmp_path)
    assert cfg.archive.catalog_path is None and cfg.archive.catalog_label == url
    assert cfg.archive.index_path == tmp_path / "archive" / ".catalog.index"
    monkeypatch.setenv("MAT_KHAU_DANH_MUC", "bí-mật")
    opened = cfg.archive.catalog()
    assert opened.password == "bí-mật" and "bí-mật" not in str(opened) and "bí-mật" not in repr(cfg)
    with pytest.raises(ConfigError) as exc:
        parse_config({**MINIMAL, "catalog": {"url": "postgresql://u:bi-mat@h/kho"}}, base=tmp_path)
    assert exc.value.message_vi.startswith("catalog.url") and "bi-mat" not in str(exc.value)
    with pytest.raises(ConfigError, match="catalog.url"):
        parse_config({**MINIMAL, "catalog": {"url": "mysql://h/kho"}}, base=tmp_path)
    sqlite = parse_config({**MINIMAL, "catalog": {"url": "sqlite:///so/danh-muc.sqlite"}}, base=tmp_path)
    assert sqlite.archive.catalog_path == tmp_path / "so" / "danh-muc.sqlite"
    assert sqlite.archive.index_path == tmp_path / "so" / "danh-muc.index"


def test_a_catalog_server_that_refuses_never_shows_the_password(tmp_path: Path) -> None:
    from sqlalchemy import make_url

    from scanner.archive import Catalog
    from scanner.errors import ArchiveError

    url = make_url("postgresql://scanner_service:bi-mat-42@/scanner?host=/nonexistent-socket-dir")
    with pytest.raises(ArchiveError) as exc:
        Catalog(url, index_path=tmp_path / "i")
    assert "bi-mat-42" not in f"{exc.value.message_vi} {exc.value.message_en}" and "***" in exc.value.message_vi
