"""Private links, coordinator sessions and sign-in throttling, on both backends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import (
    LINK_GONE,
    Actor,
    InvalidInput,
    LinkGone,
    PermissionDenied,
    TooManyAttempts,
    utcnow,
)
from casefile import schema as t
from casefile.links import client_address, hash_token
from tests.casefile.conftest import PASSWORD, make_case, make_coordinator
from vocab import settings

pytestmark = pytest.mark.db


@pytest.fixture
def team(store, coord, case):
    return store.create_team(coord, case.id, name="Red", org_type="met_bcu", lead_name="Alex")


def _all_text(store) -> str:
    """Every value of every table, as one string (to look for secrets)."""
    out = []
    with store.engine.connect() as conn:
        for table in t.ALL_TABLES:
            cols = [c for c in table.c if c.name not in ("geom",) and not c.name.endswith("_geom")]
            for row in conn.execute(sa.select(*cols)):
                out.append(json.dumps([str(x) for x in row]))
    return "\n".join(out)


def test_issue_open_and_token_stored_only_as_hash(store, coord, case):
    issued = store.issue_link(coord, case.id, role="family", label="Mum's phone", days=3)
    assert len(issued.token) >= 43  # 32 random bytes, base64url
    assert issued.url("https://wayhome.example/") == f"https://wayhome.example/?link={issued.token}"
    link = issued.link
    assert (link.role, link.label, link.case_id, link.created_by_name) == (
        "family", "Mum's phone", case.id, coord.display_name)
    assert link.works() and timedelta(days=2.99) < link.expires_at - utcnow() <= timedelta(days=3)
    everything = _all_text(store)
    assert issued.token not in everything
    assert hash_token(issued.token) in everything
    session = store.open_link(issued.token, client_key="1.2.3.4")
    assert (session.case_id, session.role, session.link_id) == (case.id, "family", link.id)
    assert session.actor.role == "family" and "Mum" not in session.actor.display_name
    assert store.links(coord, case.id)[0].last_used_at is not None
    # the link's principal cannot sign in with any password
    with store.engine.connect() as conn:
        username = conn.execute(sa.select(t.users.c.username).where(
            t.users.c.id == session.actor.user_id)).scalar_one()
    assert store.authenticate(username, "!private-link") is None


def test_label_is_personal_and_kept_out_of_the_audit_log(store, coord, case):
    store.issue_link(coord, case.id, role="family", label="Nan's iPad 07700 900999")
    with store.engine.connect() as conn:
        logged = json.dumps([list(r) for r in conn.execute(
            sa.select(t.audit_log.c.actor_name, t.audit_log.c.changes))])
    assert "07700 900999" not in logged and "Nan" not in logged
    (rec,) = store.audit_log(coord, case.id, entity="link")
    assert rec.action == "issue" and rec.actor_name == coord.display_name
    assert rec.personal["label"][1] == "Nan's iPad 07700 900999"


def test_revoked_expired_and_unknown_links_get_one_message(store, coord, case, monkeypatch):
    a = store.issue_link(coord, case.id, role="family", label="A")
    b = store.issue_link(coord, case.id, role="family", label="B", days=1)
    session = store.open_link(a.token)
    view = store.family_view(session.actor, case.id)  # works while the link works
    assert view.reference == case.reference
    store.revoke_link(coord, a.link.id, reason="phone lost")
    assert store.revoke_link(coord, a.link.id).revoked_by_name == coord.display_name  # repeat ok
    for bad in (a.token, "x" * 43, b.token[:-1] + ("A" if b.token[-1] != "A" else "B")):
        with pytest.raises(LinkGone) as err:
            store.open_link(bad)
        assert str(err.value) == LINK_GONE
    # a session opened before revocation fails at its next call (next refresh)
    with pytest.raises(PermissionDenied, match="no longer works"):
        store.family_view(session.actor, case.id)
    with pytest.raises(LinkGone):
        store.link_poll(session.actor, case.id)
    # expiry: move the clock past it
    bs = store.open_link(b.token)
    later = utcnow() + timedelta(days=1, minutes=1)
    monkeypatch.setattr("casefile.links.utcnow", lambda: later)
    monkeypatch.setattr("casefile.access.utcnow", lambda: later)
    with pytest.raises(LinkGone):
        store.open_link(b.token)
    with pytest.raises(PermissionDenied, match="no longer works"):
        store.family_view(bs.actor, case.id)


def test_link_arguments_are_checked(store, coord, case, team):
    with pytest.raises(InvalidInput, match="team"):
        store.issue_link(coord, case.id, role="team_lead", label="Red lead")
    with pytest.raises(InvalidInput, match="BCU or force"):
        store.issue_link(coord, case.id, role="partner", label="City")
    with pytest.raises(InvalidInput):
        store.issue_link(coord, case.id, role="coordinator", label="x")
    with pytest.raises(InvalidInput, match="days"):
        store.issue_link(coord, case.id, role="family", label="x", days=1000)
    with pytest.raises(InvalidInput, match="required"):
        store.issue_link(coord, case.id, role="family", label="  ")
    other = make_coordinator(store, "coord.b", "Coordinator B")
    case_b = make_case(store, other, "CASE-B")
    team_b = store.create_team(other, case_b.id, name="Blue", org_type="met_bcu")
    with pytest.raises(InvalidInput, match="another case"):
        store.issue_link(coord, case.id, role="team_lead", label="x", team_id=team_b.id)
    with pytest.raises(PermissionDenied):  # not B's coordinator
        store.issue_link(coord, case_b.id, role="family", label="x")
    with pytest.raises(PermissionDenied):
        store.links(coord, case_b.id)
    link = store.issue_link(other, case_b.id, role="family", label="x").link
    with pytest.raises(PermissionDenied):
        store.revoke_link(coord, link.id)
    lead = store.issue_link(coord, case.id, role="team_lead", label="Red", team_id=team.id)
    partner = store.issue_link(coord, case.id, role="partner", label="City", unit="E23000001")
    assert lead.link.team_name == "Red" and partner.link.unit.code == "E23000001"
    # links cannot manage links
    actor = store.open_link(lead.token).actor
    with pytest.raises(PermissionDenied):
        store.issue_link(actor, case.id, role="family", label="x")
    with pytest.raises(PermissionDenied):
        store.links(actor, case.id)


def test_wrong_tokens_are_rate_limited_per_client_and_globally(store, coord, case, monkeypatch):
    good = store.issue_link(coord, case.id, role="family", label="A")
    bad = "wrong-token-" + "x" * 30
    monkeypatch.setattr(settings, "THROTTLE_PER_CLIENT", 3)
    for _ in range(3):
        with pytest.raises(LinkGone):
            store.open_link(bad, client_key="10.0.0.1")
    with pytest.raises(TooManyAttempts):  # this client must wait before guessing again
        store.open_link(bad, client_key="10.0.0.1")
    with pytest.raises(LinkGone):  # another client may still be told the link is gone
        store.open_link(bad, client_key="10.0.0.2")
    monkeypatch.setattr(settings, "THROTTLE_GLOBAL_PER_MIN", 3)
    with pytest.raises(TooManyAttempts):  # everyone's guesses wait during a guessing run
        store.open_link(bad, client_key="10.0.0.3")
    # a right token (256 random bits: not guessable) always works, even from the guesser,
    # so a flood of wrong tokens cannot lock the families out
    for client in ("10.0.0.1", "10.0.0.3"):
        assert store.open_link(good.token, client_key=client).case_id == case.id
    monkeypatch.setattr(settings, "THROTTLE_GLOBAL_PER_MIN", 300)
    token = store.start_session(coord)
    for _ in range(3):
        assert store.open_session(bad, client_key="10.0.0.4") is None
    with pytest.raises(TooManyAttempts):
        store.open_session(bad, client_key="10.0.0.4")
    assert store.open_session(token, client_key="10.0.0.4") == coord
    # the client's address is not stored, only a hash of it
    assert "10.0.0.1" not in _all_text(store)


def test_wrong_passwords_are_rate_limited_per_client_and_per_username(store, coord, monkeypatch):
    monkeypatch.setattr(settings, "THROTTLE_PER_CLIENT", 3)
    assert store.sign_in("coord.a", PASSWORD, client_key="c1") == coord
    for _ in range(3):
        assert store.sign_in("coord.a", "wrong password!", client_key="c1") is None
    with pytest.raises(TooManyAttempts):
        store.sign_in("coord.a", PASSWORD, client_key="c1")
    # per username too: an address that has itself guessed wrong at this account is
    # slowed down by a short, growing delay once the account has had enough failures
    # (rule changed: an address that never failed on it is no longer locked out)
    monkeypatch.setattr(settings, "THROTTLE_PER_ACCOUNT", 3)
    assert store.sign_in("coord.a", "another guess!", client_key="c2") is None
    with pytest.raises(TooManyAttempts, match="for this account"):
        store.sign_in("coord.a", PASSWORD, client_key="c2")
    assert store.sign_in("coord.a", PASSWORD, client_key="c3") == coord
    monkeypatch.setattr(settings, "THROTTLE_ACCOUNT_DELAY_S", 0.0)  # the delay passed
    assert store.sign_in("coord.a", PASSWORD, client_key="c2") == coord


def test_coordinator_session_survives_reload_until_it_ends_or_expires(store, coord, monkeypatch):
    token = store.start_session(coord)
    assert token not in _all_text(store)
    assert store.open_session(token) == coord
    assert store.open_session("nope" * 10) is None
    later = utcnow() + timedelta(hours=10, minutes=1)
    monkeypatch.setattr("casefile.unit_of_work.utcnow", lambda: later)  # the store's clock
    assert store.open_session(token) is None  # a working day, then the password again
    monkeypatch.undo()
    token2 = store.start_session(coord)
    store.end_session(token2)
    assert store.open_session(token2) is None
    with pytest.raises(PermissionDenied):
        store.start_session(Actor(user_id=None, display_name="x", role="system"))


def test_every_link_write_is_audited_with_its_actor(store, coord, case, team):
    fam = store.open_link(store.issue_link(coord, case.id, role="family", label="A").token)
    store.send_tip(fam.actor, case.id, lat=51.5033, lon=-0.1196,
                   seen_at=utcnow() - timedelta(hours=1), text="Saw a boy in green")
    recs = store.audit_log(coord, case.id)
    by = {(r.entity, r.action): r for r in recs}
    assert by[("report", "create")].actor_id == fam.actor.user_id
    assert by[("report", "create")].actor_role == "family"
    assert by[("sighting", "create")].actor_name == fam.actor.display_name
    assert by[("link", "issue")].actor_id == coord.user_id


def test_a_team_lead_link_acts_under_a_neutral_name_its_manager_can_resolve(store, coord, case,
                                                                          team):
    """The append-only log never holds a team's name; the link list maps the actor back."""
    issued = store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                              team_id=team.id)
    lead = store.open_link(issued.token).actor
    sector = store.create_sector(coord, case.id, geometry=box(-0.0995, 51.5135, -0.0988, 51.514))
    sector = store.assign_sector(coord, sector.id, team.id, version=sector.version)
    store.start_sector(lead, sector.id, version=sector.version)
    (rec,) = [r for r in store.audit_log(coord, case.id, entity="sector")
              if r.action != "create" and r.actor_role == "team_lead"]
    assert rec.actor_id == lead.user_id
    assert "Red" not in rec.actor_name and f"team {team.id}" in rec.actor_name
    (link,) = [k for k in store.links(coord, case.id) if k.user_id == rec.actor_id]
    assert (link.team_id, link.team_name) == (team.id, "Red")


def test_command_line_issues_lists_and_revokes_links(store, store_url, coord, case, team):
    import io

    from wayhome.cli import main

    out = io.StringIO()
    assert main(["--database-url", store_url, "link", "issue", "--case", case.reference,
                 "--role", "team_lead", "--label", "Red lead phone", "--team", "Red",
                 "--days", "2", "--base-url", "https://wayhome.example"], out=out) == 0
    url = out.getvalue().strip().splitlines()[-1]
    assert url.startswith("https://wayhome.example/?link=")
    token = url.split("=", 1)[1]
    session = store.open_link(token)
    assert (session.role, session.team_id) == ("team_lead", team.id)
    out = io.StringIO()
    assert main(["--database-url", store_url, "link", "list", "--case", case.reference],
                out=out) == 0
    assert "Red lead phone" in out.getvalue() and token not in out.getvalue()
    assert main(["--database-url", store_url, "link", "revoke", str(session.link_id)],
                out=io.StringIO()) == 0
    feed = store.change_feed()
    if feed is not None:  # PostgreSQL: another process's revoke arrives here as a notice
        with store.engine.connect() as conn:
            n = conn.execute(sa.text("SELECT n FROM case_change WHERE case_id = :c"),
                             {"c": case.id}).scalar_one()
        assert feed.wait_until(case.id, n, 10) == n
    with pytest.raises(LinkGone):
        store.open_link(token)
    (rec,) = [r for r in store.audit_log(coord, case.id, entity="link") if r.action == "revoke"]
    assert rec.actor_role == "system" and rec.actor_name == "wayhome link revoke"


def test_command_line_link_without_an_address_is_its_path_with_a_warning(
        store, store_url, coord, case, monkeypatch, capsys):
    import io

    from wayhome.cli import main

    monkeypatch.setattr(settings, "PUBLIC_URL", "")
    out = io.StringIO()
    assert main(["--database-url", store_url, "link", "issue", "--case", case.reference,
                 "--role", "family", "--label", "Mum's phone"], out=out) == 0
    url = out.getvalue().strip().splitlines()[-1]
    assert url.startswith("/?link=")  # never a guessed http://localhost:8501
    assert store.open_link(url.split("=", 1)[1]).role == "family"
    err = capsys.readouterr().err
    assert "warning" in err and "no --base-url or WAYHOME_PUBLIC_URL" in err
    assert url.split("=", 1)[1] not in err
    # WAYHOME_PUBLIC_URL when set; --base-url before it; loopback and http warned about
    monkeypatch.setattr(settings, "PUBLIC_URL", "https://wayhome.example.org/search/")
    out = io.StringIO()
    assert main(["--database-url", store_url, "link", "issue", "--case", case.reference,
                 "--role", "family", "--label", "Dad's phone"], out=out) == 0
    assert out.getvalue().strip().splitlines()[-1].startswith(
        "https://wayhome.example.org/search/?link=")
    assert capsys.readouterr().err == ""
    out = io.StringIO()
    assert main(["--database-url", store_url, "link", "issue", "--case", case.reference,
                 "--role", "family", "--label", "Gran", "--base-url",
                 "http://localhost:8611"], out=out) == 0
    assert out.getvalue().strip().splitlines()[-1].startswith("http://localhost:8611/?link=")
    assert "will not open on anyone else's phone" in capsys.readouterr().err
    # a malformed address makes no link at all
    before = len(store.links(coord, case.id))
    assert main(["--database-url", store_url, "link", "issue", "--case", case.reference,
                 "--role", "family", "--label", "Aunt", "--base-url",
                 "wayhome.example.org"], out=io.StringIO()) == 2
    assert "--base-url must start with http:// or https://" in capsys.readouterr().err
    assert len(store.links(coord, case.id)) == before


@pytest.mark.parametrize(
    ("forwarded", "peer", "hops", "expected"),
    [
        # no proxy of ours: the header is the client's own claim and is ignored
        ("203.0.113.9", "198.51.100.7", 0, "198.51.100.7"),
        (None, "198.51.100.7", 0, "198.51.100.7"),
        # one proxy: the address it appended (rightmost), not the client's claims
        ("6.6.6.6, 203.0.113.9", "10.0.0.2", 1, "203.0.113.9"),
        ("203.0.113.9", "10.0.0.2", 1, "203.0.113.9"),
        # two proxies (CDN, then nginx): second from the right
        ("6.6.6.6, 203.0.113.9, 192.0.2.44", "10.0.0.2", 2, "203.0.113.9"),
        # fewer entries than proxies: the leftmost any of them saw
        ("203.0.113.9", "10.0.0.2", 2, "203.0.113.9"),
        # a proxy configured but no header: the peer
        ("", "10.0.0.2", 1, "10.0.0.2"),
        (" , ", None, 1, "unknown"),
        (None, None, 0, "unknown"),
    ],
)
def test_client_address_trusts_only_its_own_proxies(forwarded, peer, hops, expected):
    assert client_address(forwarded, peer, hops) == expected


def test_a_spoofed_forwarded_for_does_not_dodge_throttling(store, coord, monkeypatch):
    """Without a trusted proxy, varying X-Forwarded-For keeps the same client key."""
    monkeypatch.setattr(settings, "THROTTLE_PER_CLIENT", 3)
    for n in range(3):
        key = client_address(f"203.0.113.{n}", "198.51.100.7", 0)
        assert store.sign_in("nobody.here", "wrong password", client_key=key) is None
    with pytest.raises(TooManyAttempts):
        store.sign_in("somebody.else", "wrong password",
                      client_key=client_address("203.0.113.99", "198.51.100.7", 0))
