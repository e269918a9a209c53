"""The agency's clock: times and dates as the agency reads them, light enough for every screen to import.

The signature mark on every PDF shows the agency's time (+07:00); a screen that
showed the workstation's UTC clock beside it would make an officer doubt one
of them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo


def _agency_zone() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Ho_Chi_Minh")
    except (
        ImportError,
        KeyError,
        OSError,
    ):  # no tz database on the machine: Vietnam has kept +07:00 without DST since 1975
        return timezone(timedelta(hours=7), "+07")


AGENCY_ZONE = _agency_zone()


def agency_time(value: str | datetime | None) -> str:
    """A time as the agency reads it — ``01/12/2026 15:04 (+07:00)`` — whatever zone it was stored in.

    The signature mark on every PDF shows the agency's time; a screen that
    showed the workstation's UTC clock beside it would make an officer doubt
    one of them. An empty value stays empty; a bare date stays a date.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if len(value) == 10:
            return agency_day(value)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        return f"{moment:%d/%m/%Y %H:%M}"
    local = moment.astimezone(AGENCY_ZONE)
    offset = local.strftime("%z")
    return f"{local:%d/%m/%Y %H:%M} ({offset[:3]}:{offset[3:]})"


def agency_day(value: str | date | None) -> str:
    """A calendar date as written on Vietnamese papers, ``05/02/2024``; empty stays empty."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            return f"{date.fromisoformat(value[:10]):%d/%m/%Y}"
        except ValueError:
            return value
    return f"{value:%d/%m/%Y}"


__all__ = ["AGENCY_ZONE", "agency_day", "agency_time"]
