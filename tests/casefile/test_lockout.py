"""Nobody is locked out by someone else's failures (the two attacks seen in the field).

* 300 wrong link tokens from 31 addresses within a minute used to make every
  coordinator's right password fail (one global limit for every kind);
* 10 wrong passwords from 10 addresses used to lock a named coordinator out for
  15 minutes, mid-search.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from casefile import LinkGone, TooManyAttempts
from casefile import schema as t
from casefile.sessions import account_delay_s
from tests.casefile.conftest import PASSWORD
from vocab import settings

WRONG = "wrong-token-" + "x" * 30


def _failures(store, scope: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count(sa.distinct(t.sign_in_failures.c.at)))
            .where(t.sign_in_failures.c.scope == scope)
        ).scalar_one()


def test_a_flood_of_wrong_link_tokens_never_blocks_a_coordinators_password(store, coord, case):
    family = store.issue_link(coord, case.id, role="family", label="Mum's phone")
    for n in range(300):
        with pytest.raises(LinkGone):
            store.open_link(WRONG, client_key=f"198.51.100.{n % 31}")
    assert _failures(store, "link") == 300
    with pytest.raises(TooManyAttempts):  # the run is held back, for wrong tokens
        store.open_link(WRONG, client_key="203.0.113.250")
    # the coordinator signs in with the right password — from a fresh address, and even
    # from one of the flooding addresses (a shared station NAT): tokens are another kind
    assert store.sign_in("coord.a", PASSWORD, client_key="192.0.2.10") == coord
    assert store.sign_in("coord.a", PASSWORD, client_key="198.51.100.3") == coord
    # a right link token always works, whoever floods
    assert store.open_link(family.token, client_key="198.51.100.3").case_id == case.id
    token = store.start_session(coord)
    assert store.open_session(token, client_key="198.51.100.4") == coord


def test_wrong_passwords_from_many_addresses_do_not_lock_a_coordinator_out(
        store, coord, monkeypatch):
    for n in range(10):
        assert store.sign_in("coord.a", f"guess number {n}", client_key=f"203.0.113.{n}") is None
    # the real coordinator, from an address that never failed, signs in at once
    assert store.sign_in("coord.a", PASSWORD, client_key="192.0.2.10") == coord
    # a guesser who comes back to the account waits (the account is over its limit)
    with pytest.raises(TooManyAttempts, match="for this account"):
        store.sign_in("coord.a", "guess number 11", client_key="203.0.113.3")
    # a coordinator who mistypes it now waits a few seconds, never 15 minutes
    assert store.sign_in("coord.a", "typo", client_key="192.0.2.11") is None
    with pytest.raises(TooManyAttempts, match="for this account") as waited:
        store.sign_in("coord.a", PASSWORD, client_key="192.0.2.11")
    seconds = int(re.search(r"Wait (\d+) seconds", str(waited.value)).group(1))
    assert seconds <= settings.THROTTLE_ACCOUNT_MAX_DELAY_S <= 60
    monkeypatch.setattr(settings, "THROTTLE_ACCOUNT_DELAY_S", 0.0)  # ... once it passed
    assert store.sign_in("coord.a", PASSWORD, client_key="192.0.2.11") == coord


def test_per_account_delays_grow_and_stay_short():
    limit = settings.THROTTLE_PER_ACCOUNT
    assert account_delay_s(limit - 1) == 0.0
    delays = [account_delay_s(limit + k) for k in range(12)]
    assert delays == sorted(delays) and delays[1] == 2 * delays[0]
    assert max(delays) == settings.THROTTLE_ACCOUNT_MAX_DELAY_S


def test_a_distributed_password_run_holds_back_only_addresses_that_failed(
        store, coord, monkeypatch):
    monkeypatch.setattr(settings, "THROTTLE_GLOBAL_PER_MIN", 20)
    for n in range(20):
        assert store.sign_in(f"nobody{n}", "guess", client_key=f"203.0.113.{n}") is None
    with pytest.raises(TooManyAttempts, match="on this service"):
        store.sign_in("nobody", "guess", client_key="203.0.113.1")
    assert store.sign_in("coord.a", PASSWORD, client_key="192.0.2.10") == coord
