"""Finishing a sector is all or nothing: its record, its pass and the POA update.

The pass write is made to fail inside ``finish_sector``; the store must then hold
exactly what it held before — the sector still being searched at its version, no
audit record, the case's change counter where it was, no pass and POA untouched —
and the user is told the change was not saved.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from casefile import StoreError
from casefile import passes as pass_helpers
from casefile import schema as t
from tests.casefile.conftest import count_rows
from tests.casefile.test_tracks import across, square

pytestmark = pytest.mark.db


@pytest.fixture
def started(store, coord, case, team):
    """A sector being searched by ``team``, with POA set up for the case."""
    s = store.create_sector(coord, case.id, geometry=square(), name="Square")
    s = store.set_sector_status(coord, s.id, "ready", version=s.version)
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    s = store.start_sector(coord, s.id, version=s.version)
    store.set_up_poa(coord, case.id, rings=[500, 1000, 2000, 4000])
    return s


def snapshot(store, case_id: int, sector_id: int) -> dict[str, Any]:
    """Everything finishing a sector could change."""
    with store.engine.connect() as conn:
        sector = conn.execute(
            sa.select(t.sectors.c.status, t.sectors.c.version, t.sectors.c.searched_at)
            .where(t.sectors.c.id == sector_id)
        ).one()
        counter = conn.execute(
            sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
        ).scalar_one()
        poa = conn.execute(
            sa.select(t.poa_states.c.version, t.poa_states.c.applied)
            .where(t.poa_states.c.case_id == case_id)
        ).all()
        passes = conn.execute(
            sa.select(t.passes.c.id, t.passes.c.state, t.passes.c.version)
            .order_by(t.passes.c.id)
        ).all()
    return {
        "sector": tuple(sector),
        "counter": counter,
        "audit": count_rows(store, t.audit_log),
        "audit_detail": count_rows(store, t.audit_detail),
        "poa": [tuple(r) for r in poa],
        "poa_updates": count_rows(store, t.poa_updates),
        "passes": [tuple(r) for r in passes],
    }


def broken(*_a: Any, **_kw: Any) -> Any:
    raise StoreError("The pass could not be saved.")


def test_a_failed_pass_write_leaves_the_finish_unsaved(store, coord, case, started,
                                                       monkeypatch):
    before = snapshot(store, case.id, started.id)
    assert before["passes"] == [] and before["sector"][0] == "in_progress"
    monkeypatch.setattr(pass_helpers, "insert_pass", broken)
    with pytest.raises(StoreError, match="pass could not be saved"):
        store.finish_sector(coord, started.id, version=started.version,
                            search_type="thorough", assurance="high")
    assert snapshot(store, case.id, started.id) == before
    assert count_rows(store, t.passes) == 0
    # and once the pass can be written, the same form finishes the sector with its pass
    monkeypatch.undo()
    done = store.finish_sector(coord, started.id, version=started.version,
                               search_type="thorough", assurance="high")
    assert done.status == "searched"
    (p,) = store.passes(coord, case.id)
    assert p.state == "closed" and p.record_at == done.searched_at
    assert store.poa_state(coord, case.id).applied == {p.id: p.version}


def test_a_failed_poa_update_leaves_the_finish_and_its_open_pass_as_they_were(
    store, coord, case, team, started, monkeypatch
):
    store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                       sector_id=started.id)
    before = snapshot(store, case.id, started.id)
    assert [state for _id, state, _v in before["passes"]] == ["open"]
    monkeypatch.setattr(pass_helpers, "passes_cell_pods", broken)
    with pytest.raises(StoreError, match="pass could not be saved"):
        store.finish_sector(coord, started.id, version=started.version,
                            search_type="thorough", assurance="high")
    assert snapshot(store, case.id, started.id) == before
