"""A province in a temporary folder: workstations sharing one PostgreSQL catalog, one queue and one work folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import configure


def shared_workstation(template: Path, root: Path, service_url: Any, shared: Path, station: str, **queue: Any) -> Path:
    """A copy of the workstation TEMPLATE (a config path) as machine STATION of one province.

    The catalog is SERVICE_URL; the archive, the index and the queued jobs'
    work folder are in SHARED; the machine's own work area stays its own.
    """
    shutil.copytree(template.parent, root, symlinks=True)
    config = root / template.name
    url = service_url.set(drivername="postgresql").render_as_string(hide_password=False)
    configure(config, "archive", root=str(shared / "archive"), work=str(root / "work"))
    configure(config, "catalog", url=url, station=station, index=str(shared / "index"))
    configure(config, "queue", work=str(shared / "work"), **queue)
    return config
