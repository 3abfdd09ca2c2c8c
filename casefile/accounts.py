"""Accounts in the store: create them, set passwords, look one up, and sign in.

Mixed into :class:`casefile.Store`. Accounts are made and their passwords set
from the command line only (``user.admin``, the system actor); a user may look
up their own account. Passwords are stored as argon2id hashes
(:mod:`casefile.passwords`), and :meth:`AccountsMixin.authenticate` upgrades an
old hash at the next correct sign-in. Account changes are audited by field
name only, never by value (``user`` is a names-only entity of the audit log).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.errors import InvalidInput, NotFound, PermissionDenied
from casefile.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from casefile.permissions import Actor
from casefile.records import User
from casefile.timefmt import utcnow
from casefile.versioned import store_module as _s


class AccountsMixin:
    """Account operations of :class:`casefile.Store` (see the module docstring)."""

    # provided by Store
    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any

    def create_user(
        self,
        actor: Actor,
        username: str,
        display_name: str,
        password: str,
        *,
        role: str = "coordinator",
    ) -> User:
        """A new account (command line only). The password is stored as an argon2id hash."""
        s = _s()
        s._check_actor_shape(actor, perm.USER_ADMIN)
        username = v.username(username)
        display_name = v.text(
            "display_name", display_name, s.MAX_LEN["display_name"], required=True
        )
        role = v.choice("role", role, perm.ACCOUNT_ROLES)
        _check_password(password)
        hashed = hash_password(password)
        now = utcnow()
        with self._writing() as conn:
            self._authorize(conn, actor, perm.USER_ADMIN)
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first():
                raise InvalidInput(f"There is already an account called {username!r}.")
            user_id = insert_account(conn, actor, now, username=username,
                                     display_name=display_name, password_hash=hashed,
                                     role=role)
            fields = ("username", "display_name", "role", "password")
            _audit_account(self, conn, actor, now, user_id, "create", fields)
            return _user(conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).one())

    def set_password(self, actor: Actor, username: str, password: str) -> None:
        """Replace an account's password (command line only)."""
        _s()._check_actor_shape(actor, perm.USER_ADMIN)
        _check_password(password)
        hashed = hash_password(password)
        now = utcnow()
        with self._writing() as conn:
            self._authorize(conn, actor, perm.USER_ADMIN)
            row = conn.execute(
                sa.select(t.users.c.id).where(t.users.c.username == username)
            ).first()
            if row is None:
                raise NotFound(f"There is no account called {username!r}.")
            conn.execute(
                t.users.update()
                .where(t.users.c.id == row.id)
                .values(
                    password_hash=hashed,
                    updated_at=now,
                    updated_by_name=actor.display_name,
                    version=t.users.c.version + 1,
                )
            )
            _audit_account(self, conn, actor, now, row.id, "set_password", ("password",))

    def get_user(self, actor: Actor, username: str) -> User:
        """An account by username (command line, or the user themself)."""
        _s()._check_actor_shape(actor, None)
        with self._reading() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
            if row is None:
                raise NotFound(f"There is no account called {username!r}.")
            if actor.role != "system" and actor.user_id != row.id:
                raise PermissionDenied("You can only look up your own account.")
            return _user(row)

    def authenticate(self, username: str, password: str) -> Actor | None:
        """The actor for a correct username and password, else None (same time either way).

        Records the login (and upgrades an old hash) in one transaction.
        """
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        with self._reading() as conn:
            row = conn.execute(
                sa.select(t.users).where(t.users.c.username == username.strip().lower())
            ).first()
        ok = verify_password(row.password_hash if row is not None else None, password)
        if row is None or not ok or not row.active:
            return None
        actor = Actor(user_id=row.id, display_name=row.display_name, role=row.role)
        now = utcnow()
        values: dict[str, Any] = {"last_login_at": now}
        if needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        with self._writing() as conn:
            conn.execute(t.users.update().where(t.users.c.id == row.id).values(**values))
            _audit_account(self, conn, actor, now, row.id, "login", ())
        return actor


def _audit_account(
    store: Any,
    conn: sa.Connection,
    actor: Actor,
    now: datetime,
    user_id: int,
    action: str,
    fields: Iterable[str],
) -> None:
    """Audit a change to an account: no case, and field names only (never values)."""
    store._audit(
        conn,
        actor,
        now,
        case_id=None,
        entity="user",
        entity_id=user_id,
        action=action,
        changes={name: (None, 1) for name in fields},
    )


def _check_password(password: Any) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters.")
    v.text("password", password, _s().MAX_LEN["password"])


def insert_account(conn: sa.Connection, actor: Actor, now: datetime, *, username: str,
                   display_name: str, password_hash: str, role: str,
                   expires_at: datetime | None = None) -> int:
    """Insert an active account (a coordinator's, or a private link's own) and return its id."""
    return int(conn.execute(
        t.users.insert().values(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            role=role,
            active=True,
            created_at=now,
            updated_at=now,
            updated_by_name=actor.display_name,
            version=1,
            expires_at=expires_at,
        )
    ).inserted_primary_key[0])


def _user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        active=bool(row.active),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        version=row.version,
    )
