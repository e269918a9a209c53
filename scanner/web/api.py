"""The REST API (``/api/v1``) for the provincial one-stop system."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["api"])
