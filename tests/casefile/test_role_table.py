"""The role table is the only source of who may do what: every write operation of the
Store front, called by each role, is refused exactly when the table says the role
lacks the permission the operation asks for, and a team lead or a partner unit is
held to its own team's or unit's rows by the table's row scopes.
"""

from __future__ import annotations

import pytest

from casefile import PermissionDenied, StoreError, access, unit_of_work
from tests.casefile import one_of_everything as everything
from tests.casefile.one_of_everything import calls, write_operations

pytestmark = pytest.mark.db

saved_world, world = everything.saved_world, everything.world  # shared fixtures


#: calls made by a fixed actor whatever the role under test (the command line, a family,
#: or nobody yet: a sign-in)
FIXED_ACTOR = {"authenticate", "sign_in", "sign_in_oidc", "create_user", "set_password",
               "purge_case", "send_tip", "report_family_search", "acknowledge_handover",
               "load_streets"}


@pytest.mark.parametrize("role", ["team_lead", "family", "partner"])
def test_each_role_is_refused_every_write_its_table_row_lacks(world, monkeypatch, role):
    store, w = world
    link = store.issue_link(w["coord"], w["case"].id, role=role, label=f"{role} test",
                            team_id=w["team"].id if role == "team_lead" else None,
                            unit="city of london police" if role == "partner" else None)
    actor = store.open_link(link.token).actor
    seen: list[str | None] = []
    real = unit_of_work.UnitOfWork.__init__

    def spy(self, db, who, permission, **kw):
        seen.append(permission)
        real(self, db, who, permission, **kw)

    monkeypatch.setattr(unit_of_work.UnitOfWork, "__init__", spy)
    refused = 0
    for name in sorted(write_operations() - FIXED_ACTOR):
        seen.clear()
        try:
            calls(store, w, actor)[name]()
            outcome: Exception | None = None
        except Exception as exc:
            outcome = exc
        assert seen, f"{name} opened no unit of work"
        if access.scope_of(role, seen[0]) is None:
            assert isinstance(outcome, PermissionDenied), (
                f"a {role} lacks {seen[0]} in the role table, yet {name} gave {outcome!r}")
            refused += 1
        else:
            assert not isinstance(outcome, PermissionDenied) or access.ROW_SCOPES.get(
                access.scope_of(role, seen[0]) or ""), f"{name}: {outcome!r}"
    assert refused >= 15


def test_row_scopes_hold_a_team_lead_to_its_own_team(world):
    store, w = world
    red = store.open_link(w["lead_link"].token).actor
    blue_link = store.issue_link(w["coord"], w["case"].id, role="team_lead", label="Blue",
                                 team_id=w["team2"].id)
    blue = store.open_link(blue_link.token).actor
    going = w["going"]  # Team Red's sector, in progress
    assert access.scope_of("team_lead", "sector.progress") == "own_team"
    with pytest.raises(PermissionDenied, match="not your team's"):
        store.finish_sector(blue, going.id, version=going.version, search_type="hasty",
                            assurance="low")
    with pytest.raises(PermissionDenied, match="own team"):
        store.finish_sector(red, going.id, version=going.version, search_type="hasty",
                            assurance="low", team_id=w["team2"].id)
    with pytest.raises(PermissionDenied, match="family"):
        store.finish_sector(red, going.id, version=going.version, search_type="hasty",
                            assurance="low", share_with_family=True)
    done = store.finish_sector(red, going.id, version=going.version, search_type="hasty",
                               assurance="low")
    assert done.status == "searched"


def test_row_scopes_hold_a_partner_to_its_own_unit(world):
    store, w = world
    other = store.create_handover(w["coord"], w["case"].id, from_unit="city of london police",
                                  to_unit="E23000001", reason="back")
    partner = w["partner"]
    assert access.scope_of("partner", "handover.ack") == "own_unit"
    with pytest.raises(PermissionDenied, match="addressed to"):
        store.acknowledge_handover(partner, other.id, by_name="PC City", version=other.version)
    acked = store.acknowledge_handover(partner, w["handover"].id, by_name="PC City",
                                       version=w["handover"].version)
    assert acked.acknowledged_by == "PC City"


def test_no_role_outside_the_table_acts(store):
    with pytest.raises(StoreError):
        access.check_actor_shape(object(), "case.read")
    assert access.scope_of("nobody", "case.read") is None
