"""``wayhome demo`` fills every page: teams, sectors in every status, a track, the
family's tip and report, a handover and a link of each role (printed once, stored
only as a hash); a second run adds nothing. ``wayhome team add`` adds a team."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from casefile import open_store
from tests.casefile.conftest import IS_PG, _template, store_url  # noqa: F401
from vocab.sector_statuses import STATUSES
from wayhome.cli import main
from wayhome.demo import demo_data

pytestmark = pytest.mark.db

PASSWORD = "demo password for tests"
LINK = re.compile(r"/\?link=([A-Za-z0-9_\-]+)")


def run(args: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, stdin=io.StringIO(stdin), out=out)
    return code, out.getvalue()


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    tables = ("audit_log", "teams", "sectors", "tracks", "handovers", "access_links",
              "volunteer_reports", "sightings")
    with engine.connect() as conn:
        got = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one() for t in tables}
    engine.dispose()
    return got


def test_demo_has_something_for_every_page_and_repeats_safely(store_url):  # noqa: F811
    code, out = run(["--database-url", store_url, "demo", "--password-stdin"],
                    stdin=PASSWORD + "\n")
    assert code == 0, out
    tokens = LINK.findall(out)
    assert len(tokens) == 3
    data = demo_data()
    assert all(spec["label"] in out for spec in data["links"])

    store = open_store(store_url)
    actor = store.authenticate("demo.coordinator", PASSWORD)
    case_id = store.case_id_for(actor, "DEMO-0001")
    assert {t.name for t in store.teams(actor, case_id)} == {t["name"] for t in data["teams"]}
    assert {s.status for s in store.sectors(actor, case_id)} == set(STATUSES)
    assert len(store.tracks(actor, case_id)) == 1
    assert store.triage_count(actor, case_id) == 2  # the family's tip and "we searched here"
    assert [(h.from_unit.code, h.to_unit.code) for h in store.handovers(actor, case_id)] == [
        (data["handover"]["from_unit"], data["handover"]["to_unit"])]
    links = store.links(actor, case_id)
    assert sorted(link.role for link in links) == ["family", "partner", "team_lead"]
    for token in tokens:  # each printed link opens
        assert store.open_link(token).case_id == case_id
    store.close()

    before = counts(store_url)
    code, again = run(["--database-url", store_url, "demo"])
    assert code == 0 and not LINK.search(again)
    assert counts(store_url) == before  # nothing added, not even an audit record

    code, fresh = run(["--database-url", store_url, "demo", "--new-links"])
    assert code == 0 and len(LINK.findall(fresh)) == 3
    assert counts(store_url)["access_links"] == before["access_links"] + 3

    if not IS_PG:  # the tokens are nowhere in the store in plain text
        raw = open(store_url.removeprefix("sqlite:///"), "rb").read()
        assert not any(t.encode() in raw for t in tokens + LINK.findall(fresh))


def test_team_add(store_url):  # noqa: F811
    run(["--database-url", store_url, "demo", "--password-stdin"], stdin=PASSWORD + "\n")
    code, out = run(["--database-url", store_url, "team", "add", "--case", "DEMO-0001",
                     "--name", "Team Green", "--org-type", "volunteer_group", "--size", "5",
                     "--lead", "Sam (fictional)"])
    assert code == 0 and "Team Green" in out
    store = open_store(store_url)
    actor = store.authenticate("demo.coordinator", PASSWORD)
    team = next(t for t in store.teams(actor, store.case_id_for(actor, "DEMO-0001"))
                if t.name == "Team Green")
    assert (team.org_type, team.size, team.lead_name) == ("volunteer_group", 5, "Sam (fictional)")
    store.close()
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        audited = conn.exec_driver_sql(
            "SELECT actor_name, actor_role, action FROM audit_log WHERE entity = 'team' "
            f"AND entity_id = {team.id}").all()
    engine.dispose()
    assert [tuple(r) for r in audited] == [("wayhome team add", "system", "create")]
    code, _ = run(["--database-url", store_url, "team", "add", "--case", "DEMO-0001",
                   "--name", "Team Green"])
    assert code == 1  # team names are unique in a case
