"""The archive officer's workspace (``/luu-tru``): search, record view, verification, export, reports.

Built on the foundation of ``scanner.web`` by the officer's workspace branch:
its pages go on ``router`` (included by ``create_app``), its templates under
``templates/officer/``, its menu entries into ``templating.NAV``, and its
handlers reach the archive through ``deps.archive`` with ``auth.current_actor``
or ``auth.require_roles(Role.OFFICER, ...)``.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
