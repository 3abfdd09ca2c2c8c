"""Accounts in the store: create them, set passwords, look one up, and sign in.

Accounts are made and their passwords set from the command line only
(``user.admin``, the system actor); a user may look up their own account.
Passwords are stored as argon2id hashes (:mod:`casefile.passwords`), and
:func:`authenticate` upgrades an old hash at the next correct sign-in. Account
changes are audited by field name only, never by value (``user`` is a
names-only entity of the audit log), and belong to no case.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casefile import access
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput, NotFound, PermissionDenied
from casefile.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from casefile.permissions import Actor
from casefile.records import MAX_LEN, User
from casefile.unit_of_work import UnitOfWork, writes


@writes
def create_user(
    db: Database, /,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    *,
    role: str = "coordinator",
) -> User:
    """A new account (command line only). The password is stored as an argon2id hash."""
    unit = UnitOfWork(db, actor, perm.USER_ADMIN)
    username = v.username(username)
    display_name = v.text("display_name", display_name, MAX_LEN["display_name"], required=True)
    role = v.choice("role", role, perm.ACCOUNT_ROLES)
    check_password(password)
    hashed = hash_password(password)
    with unit as uow:
        access.authorize(uow.conn, actor, perm.USER_ADMIN)
        if uow.conn.execute(
            sa.select(t.users.c.id).where(t.users.c.username == username)
        ).first():
            raise InvalidInput(f"There is already an account called {username!r}.")
        user_id = insert_account(uow.conn, actor, uow.now, username=username,
                                 display_name=display_name, password_hash=hashed, role=role)
        record_account(uow, user_id, "create", ("username", "display_name", "role", "password"))
        return user_record(
            uow.conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).one()
        )


@writes
def set_password(db: Database, /, actor: Actor, username: str, password: str) -> None:
    """Replace an account's password (command line only)."""
    unit = UnitOfWork(db, actor, perm.USER_ADMIN)
    check_password(password)
    hashed = hash_password(password)
    with unit as uow:
        access.authorize(uow.conn, actor, perm.USER_ADMIN)
        row = uow.conn.execute(
            sa.select(t.users.c.id).where(t.users.c.username == username)
        ).first()
        if row is None:
            raise NotFound(f"There is no account called {username!r}.")
        uow.conn.execute(
            t.users.update()
            .where(t.users.c.id == row.id)
            .values(
                password_hash=hashed,
                updated_at=uow.now,
                updated_by_name=actor.display_name,
                version=t.users.c.version + 1,
            )
        )
        record_account(uow, row.id, "set_password", ("password",))


def get_user(db: Database, /, actor: Actor, username: str) -> User:
    """An account by username (command line, or the user themself)."""
    with UnitOfWork(db, actor, None, mode="read") as uow:
        row = uow.conn.execute(
            sa.select(t.users).where(t.users.c.username == username)
        ).first()
    if row is None:
        raise NotFound(f"There is no account called {username!r}.")
    if actor.role != "system" and actor.user_id != row.id:
        raise PermissionDenied("You can only look up your own account.")
    return user_record(row)


@writes
def authenticate(db: Database, /, username: str, password: str) -> Actor | None:
    """The actor for a correct username and password, else None (same time either way).

    The password is checked between two short units, never inside one (argon2 is
    slow on purpose); the sign-in (and an upgraded hash) is recorded by the
    account itself.
    """
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    # no one is signed in yet: the lookup reads as the server itself
    with UnitOfWork(db, Actor.system("sign-in"), None, mode="read") as lookup:
        row = lookup.conn.execute(
            sa.select(t.users).where(t.users.c.username == username.strip().lower())
        ).first()
    ok = verify_password(row.password_hash if row is not None else None, password)
    if row is None or not ok or not row.active:
        return None
    actor = Actor(user_id=row.id, display_name=row.display_name, role=row.role)
    new_hash = hash_password(password) if needs_rehash(row.password_hash) else None
    with UnitOfWork(db, actor, None) as uow:
        values: dict[str, Any] = {"last_login_at": uow.now}
        if new_hash is not None:
            values["password_hash"] = new_hash
        uow.conn.execute(t.users.update().where(t.users.c.id == row.id).values(**values))
        record_account(uow, row.id, "login", ())
    return actor


def record_account(uow: UnitOfWork, user_id: int, action: str, fields: Iterable[str]) -> None:
    """Record a change to an account: no case, and field names only (never values)."""
    uow.record("user", user_id, action, {name: (None, 1) for name in fields}, case_id=None)


def check_password(password: Any) -> None:
    """Refuse a password that is too short, too long or not text."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters.")
    v.text("password", password, MAX_LEN["password"])


def insert_account(conn: sa.Connection, actor: Actor, now: datetime, *, username: str,
                   display_name: str, password_hash: str, role: str,
                   expires_at: datetime | None = None) -> int:
    """Insert an active account (a coordinator's, or a private link's own) and return its id.

    Runs inside the caller's unit of work, which records the change.
    """
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
        ).returning(t.users.c.id)
    ).scalar_one())


def user_record(row: Any) -> User:
    """A :class:`User` from its row (never the password hash)."""
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
