"""Staff accounts and their sign-in sessions (agents, experts, admins).

* Passwords are hashed with argon2; the first admin is created on the
  command line (``weiyuan user add``), never with a default password.
* A sign-in stores only the sha256 of its random token, so logout and
  deactivation take effect at once.

The web layer (:mod:`gateway.security`) turns these into cookies, CSRF checks
and role guards; the CLI uses the same functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from store.audit import record_audit
from store.db import Database
from store.models import User, WebSession, utcnow

ROLES = ("agent", "expert", "admin")
ROLE_LABELS = {"agent": "热线坐席", "expert": "专家", "admin": "管理员"}

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    expert_id: str | None
    csrf_token: str


#: Letters (any script), digits, "-" and "_"; the API document shows the same rule.
USERNAME_PATTERN = r"^[\w-]{1,64}$"
MIN_PASSWORD_CHARS = 10


class AccountExists(ValueError):
    """The username is taken."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    expert_id: str | None = None,
    actor: str = "cli",
) -> User:
    if role not in ROLES:
        raise ValueError(f"角色必须是 {', '.join(ROLES)} 之一")
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise ValueError("用户名只能包含字母、数字、- 和 _")
    with db.session() as session:
        if session.scalar(select(User).where(User.username == username)):
            raise AccountExists(f"用户 {username} 已存在")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            expert_id=expert_id,
        )
        session.add(user)
        record_audit(session, actor, "user.create", "user", username, role=role)
    return user


def login(db: Database, username: str, password: str, hours: int) -> tuple[str, Principal] | None:
    """Check the password; on success store a new session and return its cookie token."""
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None or not verify_password(user.password_hash, password):
            # same work whether or not the user exists
            if user is None:
                verify_password(_DUMMY_HASH, password)
            return None
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        session.add(
            WebSession(
                id=_digest(token),
                user_id=user.id,
                csrf_token=csrf,
                expires_at=utcnow() + dt.timedelta(hours=hours),
            )
        )
        user.last_login_at = utcnow()
        record_audit(session, user.username, "user.login", "user", user.username)
        principal = Principal(user.id, user.username, user.display_name, user.role, user.expert_id, csrf)
    return token, principal


_DUMMY_HASH = _hasher.hash("not-a-real-password-0123456789")


def principal_for(
    db: Database, token: str | None, idle_minutes: float | None = None, hours: float | None = None
) -> Principal | None:
    """The signed-in user of a session token, or ``None`` once it expired, was idle too long or the user
    was deactivated.  With ``idle_minutes``, each use moves the expiry to that long from now (never
    past ``hours`` after sign-in): a desk left open and unattended signs itself out."""
    if not token:
        return None
    with db.session() as session:
        row = session.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == _digest(token))
        ).first()
        if row is None:
            return None
        web_session, user = row
        expires = web_session.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        now = utcnow()
        if expires < now or not user.active:
            session.delete(web_session)
            return None
        if idle_minutes is not None and hours is not None:
            created = web_session.created_at
            created = created.replace(tzinfo=dt.UTC) if created.tzinfo is None else created
            renewed = min(created + dt.timedelta(hours=hours), now + dt.timedelta(minutes=idle_minutes))
            if abs((renewed - expires).total_seconds()) > 30:  # not a write on every click
                web_session.expires_at = renewed
        return Principal(user.id, user.username, user.display_name, user.role, user.expert_id, web_session.csrf_token)


def logout(db: Database, token: str | None) -> None:
    if token:
        with db.session() as session:
            session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def set_password(db: Database, username: str, new_password: str, actor: str, current: str | None = None) -> bool:
    """Change a password (``current`` required when users change their own); every session of the
    account ends, so a leaked session cannot outlive the change.  ``False``: unknown user or wrong
    current password."""
    new_hash = hash_password(new_password)  # raises ValueError for a weak password
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or (current is not None and not verify_password(user.password_hash, current)):
            return False
        user.password_hash = new_hash
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        record_audit(session, actor, "user.password", "user", username, own=current is not None)
    return True


def list_users(db: Database) -> list[dict[str, Any]]:
    """Every account, for the console and ``weiyuan user list``."""
    with db.session() as session:
        return [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "expert_id": u.expert_id,
                "active": u.active,
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in session.scalars(select(User).order_by(User.username))
        ]


def set_active(db: Database, username: str, active: bool, actor: str) -> bool:
    """Enable or disable an account (audited); ``False`` if there is no such user."""
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            return False
        user.active = active
        record_audit(session, actor, "user.active", "user", username, active=active)
    return True


def count_admins(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0)
