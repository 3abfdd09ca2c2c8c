"""Every public store write is audited by construction: when the audit append fails,
the write leaves nothing behind and the case's change counter does not move.

The writes are enumerated from the store's interface (every ``Store`` operation
marked ``@writes``), not listed by hand: a new write without a call below makes
the first test fail, so nobody can add an unaudited one unnoticed.
"""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from casefile import Store, unit_of_work, utcnow
from casefile import schema as t
from tests.casefile import one_of_everything as everything
from tests.casefile.one_of_everything import calls, write_operations
from vocab import settings

pytestmark = pytest.mark.db

saved_world, world = everything.saved_world, everything.world  # shared fixtures

@pytest.fixture(autouse=True)
def _identity_provider_domain(monkeypatch):
    """Sign-in through an identity provider is on for these tests (one allowed domain)."""
    monkeypatch.setattr(settings, "OIDC_EMAIL_DOMAINS", ("met.police.uk",))


def _prepare(store: Store, w: dict, name: str) -> None:
    """Set up what a call needs beyond the shared world (before the snapshot)."""
    if name == "purge_case":
        case = store.get_case(w["coord"], w["case"].id)
        store.update_case(w["coord"], case.id, version=case.version, status="closed")
    if name == "refresh_coverage":  # a pass whose figures were never computed
        with store.engine.begin() as conn:
            conn.execute(t.sectors.update().where(t.sectors.c.id == w["going"].id)
                         .values(searched_at=utcnow()))


def _snapshot(store: Store) -> dict[str, str]:
    """A digest of every row of every table (what "nothing written" is checked against)."""
    out = {}
    with store.engine.connect() as conn:
        for table in t.ALL_TABLES:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def test_every_write_operation_has_a_call_here(store):
    writes = write_operations()
    assert len(writes) >= 30, "the Store front lost its operations"
    missing = writes - set(calls(store, {}))
    assert not missing, f"write operations with no audit-failure check: {sorted(missing)}"


class AuditDown(RuntimeError):
    pass


@pytest.mark.parametrize("name", sorted(write_operations()))
def test_a_failing_audit_append_leaves_nothing_written(world, monkeypatch, name):
    store, w = world
    _prepare(store, w, name)
    call = calls(store, w)[name]
    before = _snapshot(store)

    def refuse(*_a, **_k):
        raise AuditDown("audit store unavailable")

    monkeypatch.setattr(unit_of_work, "append_records", refuse)
    with pytest.raises((AuditDown, Exception)) as caught:
        call()
    assert not isinstance(caught.value, AssertionError)
    assert _snapshot(store) == before, f"{name} wrote something without its audit record"
    monkeypatch.undo()
    call()  # and with a working audit the same call goes through
    assert _snapshot(store) != before
