"""Setting up a workstation: what ``scanner init`` does for a ward office on its first day.

Folders, a development signing identity (a throw-away PKI, never for
production), the configuration file from the one template, and an empty
catalog at the current schema. Running it again on an initialized
workstation changes nothing and says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from scanner.archive import open_catalog
from scanner.codes import is_agency_code
from scanner.config import Secret, load_config, render_template
from scanner.errors import ConfigError
from scanner.sign import create_dev_identity


@dataclass(frozen=True)
class Initialized:
    config_path: Path
    created: bool  # False: the workstation was already there and was left as it was


def init_workstation(root: Path, *, agency: str, agency_name: str) -> Initialized:
    if not is_agency_code(agency):
        raise ConfigError(
            f"--agency: mã định danh cơ quan '{agency}' không hợp lệ", f"--agency: invalid agency code '{agency}'"
        )
    root = root.resolve()
    config_path = root / "scanner.toml"
    if config_path.exists():
        load_config(config_path)  # say now if it no longer loads
        return Initialized(config_path, created=False)
    for sub in ("archive", "work", "inbox/quay-1", "keys"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    keys = root / "keys"
    keys.chmod(0o700)
    password_file = keys / "agency.p12.pass"
    password = secrets.token_urlsafe(24)
    password_file.touch(mode=0o600)
    password_file.write_text(password + "\n", encoding="utf-8")
    identity = create_dev_identity(keys, agency_code=agency, agency_name=agency_name, password=Secret(password))
    text = render_template(
        agency=agency,
        agency_name=agency_name,
        pkcs12=identity.pkcs12.relative_to(root).as_posix(),
        ca=identity.ca_cert.relative_to(root).as_posix(),
    )
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    open_catalog(config.archive).close()
    return Initialized(config_path, created=True)
