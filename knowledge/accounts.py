"""Staff accounts for the console: roles, hashed passwords, lockout after wrong passwords.

Roles: `admin` (accounts, export, everything), `editor` (content, offices, figures, inbox),
`viewer` (read-only, personal data masked). Five wrong passwords in a row make both the
account and the client (its address) wait 15 minutes; the count is kept in the database so
every worker sees it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import LoginThrottle, StaffUser
from .service import InvalidEdit, KnowledgeError, NotFound

ROLES = ("admin", "editor", "viewer")
ROLE_LABELS = {"admin": "管理员", "editor": "编辑", "viewer": "只读"}
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,32}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class LoginRefused(KnowledgeError):
    code = "login_refused"


class LockedOut(LoginRefused):
    code = "locked"

    def __init__(self, until: dt.datetime):
        minutes = max(1, int((until - _now()).total_seconds() // 60) + 1)
        super().__init__(f"密码错误次数太多，请{minutes}分钟后再试。")
        self.until = until


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; they were stored in UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)


# a fixed hash to compare against when the account does not exist (same time either way)
_DUMMY = hash_password("not-a-real-password")


class Accounts:
    """Create, change and check console accounts."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, user_id: int) -> StaffUser | None:
        return self.session.get(StaffUser, user_id)

    def by_name(self, username: str) -> StaffUser | None:
        return self.session.scalar(select(StaffUser).where(StaffUser.username == username))

    def all(self) -> list[StaffUser]:
        return list(self.session.scalars(select(StaffUser).order_by(StaffUser.username)))

    @staticmethod
    def check_new_password(password: str) -> None:
        if len(password or "") < MIN_PASSWORD:
            raise InvalidEdit(f"密码至少{MIN_PASSWORD}位", "password")

    def add(self, username: str, password: str, role: str, display_name: str = "") -> StaffUser:
        username = (username or "").strip()
        if not USERNAME_RE.match(username):
            raise InvalidEdit("用户名为2到32位的字母、数字、汉字、点、下划线或连字符", "username")
        if role not in ROLES:
            raise InvalidEdit(f"角色只能是 {'/'.join(ROLES)}", "role")
        if self.by_name(username):
            raise InvalidEdit(f"用户名 {username} 已经存在", "username")
        self.check_new_password(password)
        user = StaffUser(username=username, display_name=(display_name or "").strip()[:100],
                         password_hash=hash_password(password), role=role, active=True, session_generation=1)
        self.session.add(user)
        self.session.flush()
        return user

    def update(self, user_id: int, *, role: str | None = None, active: bool | None = None,
               password: str | None = None, display_name: str | None = None) -> StaffUser:
        user = self.get(user_id)
        if user is None:
            raise NotFound("没有这个账号", "id")
        if role is not None:
            if role not in ROLES:
                raise InvalidEdit(f"角色只能是 {'/'.join(ROLES)}", "role")
            if user.role == "admin" and role != "admin":
                self._keep_an_admin(user)
            user.role = role
        if active is not None:
            if not active and user.role == "admin":
                self._keep_an_admin(user)
            user.active = active
            if not active:
                user.session_generation += 1
        if password is not None:
            self.check_new_password(password)
            user.password_hash = hash_password(password)
            user.session_generation += 1  # every session of the old password ends
        if display_name is not None:
            user.display_name = display_name.strip()[:100]
        self.session.flush()
        return user

    def _keep_an_admin(self, user: StaffUser) -> None:
        others = [u for u in self.all() if u.role == "admin" and u.active and u.id != user.id]
        if not others:
            raise InvalidEdit("至少要保留一个在用的管理员账号", "role")

    # -- login ---------------------------------------------------------------------------------
    def _throttle(self, key: str) -> LoginThrottle:
        row = self.session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0)
            self.session.add(row)
        return row

    def locked_until(self, username: str, client: str) -> dt.datetime | None:
        now = _now()
        for key in (f"user:{username}", f"client:{client}"):
            row = self.session.get(LoginThrottle, key)
            until = _aware(row.locked_until) if row else None
            if until and until > now:
                return until
        return None

    def authenticate(self, username: str, password: str, client: str) -> StaffUser:
        """The active account whose password this is; LoginRefused (or LockedOut) otherwise.

        A refusal has counted the failure in this session: commit it even though this raised.
        """
        username = (username or "").strip()[:64]
        until = self.locked_until(username, client)
        if until:
            raise LockedOut(until)
        user = self.by_name(username)
        ok = check_password(user.password_hash if user else _DUMMY, password or "") and user is not None
        if not ok or not user.active:
            now = _now()
            for key in (f"user:{username}", f"client:{client}"):
                row = self._throttle(key)
                last = _aware(row.last_failure_at)
                if last and now - last > dt.timedelta(minutes=LOCK_MINUTES):
                    row.failures = 0  # an old mistake does not count towards a lock today
                row.failures = (row.failures or 0) + 1
                row.last_failure_at = now
                if row.failures >= MAX_FAILURES:
                    row.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
                    row.failures = 0
            self.session.flush()
            until = self.locked_until(username, client)
            if until:
                raise LockedOut(until)
            raise LoginRefused("这个账号已停用，请找管理员。" if ok and not user.active else "用户名或密码不对。")
        for key in (f"user:{username}", f"client:{client}"):
            row = self.session.get(LoginThrottle, key)
            if row is not None:
                self.session.delete(row)
        user.last_login_at = _now()
        self.session.flush()
        return user

    def unlock(self, username: str) -> None:
        row = self.session.get(LoginThrottle, f"user:{username}")
        if row is not None:
            self.session.delete(row)
            self.session.flush()
