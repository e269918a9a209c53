"""People and the systems that call the API: accounts, log-in, sessions, API tokens.

Why the rules are what they are:

- Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed on
  log-in when those defaults grow), never stored or logged in clear.
- Ten wrong passwords in a row lock the account for ``LOCK_MINUTES``: enough
  for a clerk who mistypes, too few for guessing. The same message answers an
  unknown name and a wrong password, so the log-in page does not tell which
  names exist; an unknown name still costs one hash, so timing does not
  either.
- A session is a random token in the browser's cookie; the catalog keeps only
  its SHA-256, so a copy of the catalog opens no session. A session ends after
  ``IDLE_HOURS`` without a request (a working day), at log-out, when the
  password is changed and when the account is disabled.
- An API client is a calling system (the provincial one-stop system), named,
  scoped to one agency, holding a token shown once when it is made.

Each use case takes the acting person first, as everywhere in ``scanner.app``,
except ``log_in`` (nobody is acting until it succeeds) and the two look-ups
that turn a token into the acting person.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scanner.app import Actor, Role
from scanner.archive import Catalog
from scanner.archive.catalog.rows import UserRecord
from scanner.errors import InputError, LoginRefused, NotFoundError, PermissionDenied

MAX_FAILED_LOGINS = 10
LOCK_MINUTES = 15
IDLE_HOURS = 10
TOUCH_SECONDS = 300  # how stale a session's last-seen time may get before a request writes it again
MIN_PASSWORD = 8

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs what a wrong password costs.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


# The roles a person's account may have (the service itself and calling systems are not people).
PERSON_ROLES = (Role.CLERK, Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)


@dataclass(frozen=True)
class UserView:
    name: str
    display_name: str
    role: Role
    counter: str | None
    agency: str | None
    disabled: bool
    locked_until: str | None  # set while (or since) ten wrong passwords locked it; see ``locked``
    last_login: str | None = None  # from the audit log, in ``users`` only
    locked: bool = False  # locked now (``locked_until`` still ahead)

    @property
    def role_vi(self) -> str:
        return self.role.label_vi


@dataclass(frozen=True)
class ApiClientView:
    name: str
    agency: str
    disabled: bool
    created: str


@dataclass(frozen=True)
class LoggedIn:
    token: str  # goes into the cookie, nowhere else
    actor: Actor
    expires: datetime


@dataclass(frozen=True)
class NewApiClient:
    name: str
    agency: str
    token: str  # shown once; only its hash is kept


def _now() -> datetime:
    return datetime.now().astimezone()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _view(u: UserRecord, *, last_login: str | None = None, now: datetime | None = None) -> UserView:
    locked = bool(u.locked_until) and datetime.fromisoformat(u.locked_until or "") > (now or _now())
    return UserView(
        u.name, u.display_name, Role(u.role), u.counter, u.agency, bool(u.disabled), u.locked_until, last_login, locked
    )


def actor_of(u: UserRecord) -> Actor:
    """The acting person an account stands for: its role, counter and agency travel with every use case."""
    return Actor(u.name, Role(u.role), u.display_name, counter=u.counter, agency=u.agency)


def _clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if not name or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in name) or "/" in name:
        raise InputError(
            "tên đăng nhập", "tên đăng nhập không được trống, không có khoảng trắng hay dấu /", code="usage"
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError("mật khẩu", f"mật khẩu cần ít nhất {MIN_PASSWORD} ký tự", code="usage")


def _require_admin(actor: Actor, catalog: Catalog) -> None:
    """Only an administrator (or the workstation's operator at the command line, acting as one) manages accounts."""
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        return
    raise PermissionDenied("chỉ quản trị viên được quản lý tài khoản", "only an administrator manages accounts")


def _user(catalog: Catalog, name: str) -> UserRecord:
    u = catalog.account_store.user(unicodedata.normalize("NFC", name))
    if u is None:
        raise NotFoundError(f"không có người dùng {name}", f"no user {name}")
    return u


# --- people ------------------------------------------------------------------------------------


def users(actor: Actor, catalog: Catalog, *, now: datetime | None = None) -> tuple[UserView, ...]:
    """Every account, with whether it is locked now and its latest log-in (from the audit log)."""
    _require_admin(actor, catalog)
    store = catalog.account_store
    seen = store.last_logins()
    return tuple(_view(u, last_login=seen.get(u.name), now=now) for u in store.users())


def add_user(
    actor: Actor,
    catalog: Catalog,
    *,
    name: str,
    password: str,
    role: Role | str,
    display_name: str = "",
    counter: str | None = None,
    agency: str | None = None,
    counters: Collection[str] = (),
) -> UserView:
    """A new account. A clerk needs a counter (one of COUNTERS when given), an officer an agency."""
    _require_admin(actor, catalog)
    name = _clean_name(name)
    try:
        role = Role(role)
    except ValueError:
        raise InputError("vai trò", f"không có vai trò {role}", code="usage") from None
    if role not in PERSON_ROLES:
        raise InputError("vai trò", f"không tạo tài khoản người dùng với vai trò {role.label_vi}", code="usage")
    counter = (counter or "").strip() or None
    agency = (agency or "").strip() or None
    if role is Role.CLERK and not counter:
        raise InputError("quầy", "cán bộ tiếp nhận cần có quầy (--counter)", code="usage")
    if counter and counters and counter not in counters:
        raise InputError("quầy", f"không có quầy {counter} (các quầy: {', '.join(counters)})", code="usage")
    if role is Role.OFFICER and not agency:
        raise InputError("cơ quan", "cán bộ lưu trữ cần có mã cơ quan (--agency)", code="usage")
    _check_password(password)
    display_name = unicodedata.normalize("NFC", display_name.strip())
    values = {
        "name": name,
        "display_name": display_name,
        "role": role.value,
        "counter": counter,
        "agency": agency,
        "password_hash": _hasher.hash(password),
    }
    where = f", quầy {counter}" if counter else f", cơ quan {agency}" if agency else ""
    if not catalog.account_store.add_user(values, actor=actor.label, detail=f"vai trò {role.label_vi}{where}"):
        raise InputError(name, "tên đăng nhập đã có người dùng", "name already taken", code="usage")
    return _view(_user(catalog, name))


def set_password(actor: Actor, catalog: Catalog, name: str, password: str) -> UserView:
    """A new password (by its owner, or a temporary one set by an administrator); it unlocks the account
    and ends its sessions."""
    if actor.name != unicodedata.normalize("NFC", name):
        _require_admin(actor, catalog)  # before the look-up: a non-administrator learns nothing of other names
    u = _user(catalog, name)
    _check_password(password)
    values = {"password_hash": _hasher.hash(password), "failed_logins": 0, "locked_until": None}
    detail = "" if actor.name == u.name else "quản trị viên đặt mật khẩu tạm"
    catalog.account_store.change_user(
        u.name, values, actor=actor.label, action="user-password", detail=detail, end_sessions=True
    )
    return _view(_user(catalog, u.name))


def change_own_password(actor: Actor, catalog: Catalog, current: str, password: str) -> UserView:
    """A person changing their own password proves they know the current one first."""
    u = _user(catalog, actor.name)
    if not _verify(u.password_hash, current):
        raise LoginRefused("Mật khẩu hiện tại không đúng.", "wrong current password")
    return set_password(actor, catalog, u.name, password)


def disable_user(actor: Actor, catalog: Catalog, name: str) -> UserView:
    """The account can no longer log in, and every session it has open ends now.

    An administrator cannot disable their own account: the last one would
    lock everybody out of account management (the CLI remains for that).
    """
    _require_admin(actor, catalog)
    u = _user(catalog, name)
    if u.name == actor.name:
        raise InputError(u.name, "không tự vô hiệu hóa tài khoản của chính mình", "not oneself", code="usage")
    catalog.account_store.change_user(
        u.name, {"disabled": 1}, actor=actor.label, action="user-disable", detail="", end_sessions=True
    )
    return _view(_user(catalog, u.name))


def enable_user(actor: Actor, catalog: Catalog, name: str) -> UserView:
    """A disabled account may log in again (with the password it had; reset it if in doubt)."""
    _require_admin(actor, catalog)
    u = _user(catalog, name)
    catalog.account_store.change_user(u.name, {"disabled": 0}, actor=actor.label, action="user-enable", detail="")
    return _view(_user(catalog, u.name))


def unlock_user(actor: Actor, catalog: Catalog, name: str) -> UserView:
    """Lift the lock of ten wrong passwords before its time (the person called the administrator)."""
    _require_admin(actor, catalog)
    u = _user(catalog, name)
    was = f"khóa đến {u.locked_until}" if u.locked_until else f"{u.failed_logins} lần sai"
    values = {"failed_logins": 0, "locked_until": None}
    catalog.account_store.change_user(u.name, values, actor=actor.label, action="user-unlock", detail=was)
    return _view(_user(catalog, u.name))


# --- log-in and sessions -----------------------------------------------------------------------


def log_in(catalog: Catalog, name: str, password: str, *, now: datetime | None = None) -> LoggedIn:
    """Open a session for NAME, or say (in Vietnamese) why not."""
    now = now or _now()
    name = unicodedata.normalize("NFC", name.strip())
    store = catalog.account_store
    u = store.user(name) if name else None
    if u is None:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused(WRONG, "wrong name or password")
    if u.locked_until and datetime.fromisoformat(u.locked_until) > now:
        until = datetime.fromisoformat(u.locked_until).astimezone(now.tzinfo)
        raise LoginRefused(
            f"Tài khoản tạm khóa đến {until:%H:%M} do nhập sai mật khẩu {MAX_FAILED_LOGINS} lần. "
            "Vui lòng thử lại sau, hoặc nhờ quản trị viên đặt lại mật khẩu.",
            "account locked after too many wrong passwords",
        )
    if not _verify(u.password_hash, password):
        lock = (now + timedelta(minutes=LOCK_MINUTES)).isoformat(timespec="seconds")
        _, locked = store.count_failure(u.name, lock_after=MAX_FAILED_LOGINS, locked_until=lock)
        if locked:
            raise LoginRefused(
                f"Nhập sai mật khẩu {MAX_FAILED_LOGINS} lần: tài khoản tạm khóa {LOCK_MINUTES} phút.",
                "account locked after too many wrong passwords",
            )
        raise LoginRefused(WRONG, "wrong name or password")
    if u.disabled:
        raise LoginRefused("Tài khoản đã bị vô hiệu hóa. Liên hệ quản trị viên.", "account disabled")
    if u.failed_logins or u.locked_until:
        store.clear_failures(u.name)
    if _hasher.check_needs_rehash(u.password_hash):
        store.change_user(
            u.name, {"password_hash": _hasher.hash(password)}, actor=u.name, action="user-password", detail="băm lại"
        )
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=IDLE_HOURS)
    store.add_session(token_hash(token), u.name, expires.isoformat(timespec="seconds"), detail="")
    return LoggedIn(token, actor_of(u), expires)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def session_actor(catalog: Catalog, token: str, *, now: datetime | None = None) -> Actor | None:
    """The person whose session TOKEN is, or None: no such session, expired, or the account disabled."""
    if not token:
        return None
    now = now or _now()
    h = token_hash(token)
    found = catalog.account_store.session(h)
    if found is None:
        return None
    session, u = found
    if u.disabled or datetime.fromisoformat(session.expires) <= now:
        catalog.account_store.end_session(h, actor=None)
        return None
    if (now - datetime.fromisoformat(session.last_seen)).total_seconds() > TOUCH_SECONDS:
        catalog.account_store.touch_session(h, (now + timedelta(hours=IDLE_HOURS)).isoformat(timespec="seconds"))
    return actor_of(u)


def log_out(actor: Actor, catalog: Catalog, token: str) -> None:
    catalog.account_store.end_session(token_hash(token), actor=actor.name)


# --- calling systems ---------------------------------------------------------------------------


def add_api_client(actor: Actor, catalog: Catalog, name: str, agency: str) -> NewApiClient:
    """A calling system allowed to use the REST API for AGENCY's records; its token is returned once."""
    _require_admin(actor, catalog)
    name = _clean_name(name)
    agency = agency.strip()
    if not agency:
        raise InputError("cơ quan", "cần mã cơ quan mà hệ thống được phép truy cập", code="usage")
    token = secrets.token_urlsafe(32)
    if not catalog.account_store.add_api_client(name, agency, token_hash(token), actor=actor.label):
        raise InputError(name, "đã có hệ thống gọi API mang tên này", "API client name taken", code="usage")
    return NewApiClient(name, agency, token)


def api_clients(actor: Actor, catalog: Catalog) -> tuple[ApiClientView, ...]:
    _require_admin(actor, catalog)
    clients = catalog.account_store.api_clients()
    return tuple(ApiClientView(c.name, c.agency, bool(c.disabled), c.created) for c in clients)


def api_actor(catalog: Catalog, token: str) -> Actor | None:
    """The calling system a bearer TOKEN belongs to, acting for its agency; None for an unknown or disabled one."""
    if not token:
        return None
    client = catalog.account_store.api_client(token_hash(token))
    if client is None or client.disabled:
        return None
    return Actor(f"api:{client.name}", Role.API, client.name, agency=client.agency)
