"""Subscription keys: checks are remembered briefly, and a revocation wins once they expire."""

from __future__ import annotations

from pathlib import Path

from lexicraft.bootstrap import open_context
from lexicraft.domain.users import CONFIGURED_KEY, Actor, Permission, Scope
from lexicraft.services import keys
from lexicraft.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_revoked_key_is_refused_once_its_remembered_check_expires(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    created, key = keys.create_key(context.database, "ci")
    clock = Clock()
    verifier = keys.KeyVerifier(context.database, None, ttl_s=2.0, clock=clock)

    assert verifier.cached(key) is None  # never checked: the caller must ask the database
    assert verifier.verify(key) is True
    keys.revoke_key(context.database, created.id)
    clock.now += 1.9
    assert verifier.cached(key) is True  # within the TTL the remembered answer stands
    clock.now += 0.2
    assert verifier.cached(key) is None
    assert verifier.verify(key) is False
    assert verifier.cached(key) is False


def test_missing_unknown_and_extra_keys(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    verifier = keys.KeyVerifier(context.database, "operator-key", ttl_s=60.0)
    assert verifier.cached(None) is False and verifier.verify("") is False
    assert verifier.verify("not-a-key") is False
    assert verifier.verify("operator-key") is True


def test_remembered_checks_are_bounded(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    verifier = keys.KeyVerifier(context.database, None, ttl_s=60.0, max_entries=3)
    for index in range(10):
        verifier.verify(f"guess-{index}")
    assert 1 <= len(verifier) <= 3


def test_a_check_names_the_stored_key_so_jobs_can_record_it(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    (first, key), (second, other) = (keys.create_key(context.database, n) for n in "ab")
    verifier = keys.KeyVerifier(context.database, "operator-key", ttl_s=60.0)
    assert verifier.check(key).key_id == first.id
    assert verifier.cached_check(other) is None
    assert verifier.check(other).key_id == second.id
    remembered = verifier.cached_check(other)
    assert remembered is not None and remembered.key_id == second.id
    operator = verifier.check("operator-key")
    assert operator.accepted and operator.key_id is None and operator.actor == CONFIGURED_KEY
    assert verifier.check("not-a-key").accepted is False


def test_a_check_says_who_the_key_speaks_for(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    machine, machine_key = keys.create_key(context.database, "deploy", Scope.RUNTIME)
    verifier = keys.KeyVerifier(context.database, None, ttl_s=60.0)
    actor = verifier.check(machine_key).actor
    assert actor == Actor(key_name="deploy", scope=Scope.RUNTIME, key_id=machine.id)
    assert actor.name == "deploy" and actor.permissions == {Permission.ANALYZE}
