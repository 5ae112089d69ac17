"""The fair scheduler in front of the prediction slots, driven step by step (no threads, no
clock): which waiting request gets each freed slot."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from lexicraft.jobs.scheduler import FairScheduler, Ticket


def serve(scheduler: FairScheduler, holding: Ticket, count: int) -> list[Hashable]:
    """Release ``holding``, then each ticket that gets the slot, ``count`` times; the clients
    in the order the slot went to them (one slot)."""
    order = []
    for _ in range(count):
        pending = [ticket for ticket in scheduler_tickets(scheduler) if not ticket.granted]
        scheduler.release(holding)
        granted = [ticket for ticket in pending if ticket.granted]
        assert len(granted) == 1, granted
        holding = granted[0]
        order.append(holding.client)
    return order


def scheduler_tickets(scheduler: FairScheduler) -> list[Ticket]:
    return [ticket for _start, _arrival, ticket in scheduler._waiting]


def test_a_lone_client_gets_every_turn_in_request_order() -> None:
    scheduler = FairScheduler(slots=1)
    first = scheduler.request("a")
    later = [scheduler.request("a") for _ in range(3)]
    assert first.granted and not any(ticket.granted for ticket in later)
    for index, ticket in enumerate(later):
        scheduler.release(first if index == 0 else later[index - 1])
        assert ticket.granted
        assert all(not waiting.granted for waiting in later[index + 1 :])


def test_a_new_client_goes_before_the_backlog_of_another() -> None:
    """Key a's jobs queued many batches; key b's lone batch gets the next free slot."""
    scheduler = FairScheduler(slots=1)
    holding = scheduler.request("a", cost=8_000)
    for _ in range(5):
        scheduler.request("a", cost=8_000)
    scheduler.request("b", cost=60)
    assert serve(scheduler, holding, 6) == ["b", "a", "a", "a", "a", "a"]


def test_clients_with_work_waiting_share_the_slot_by_characters() -> None:
    """a's batches cost twice what b's do: b gets two turns for each of a's."""
    scheduler = FairScheduler(slots=1)
    holding = scheduler.request("a", cost=2)
    for _ in range(3):
        scheduler.request("a", cost=2)
    for _ in range(6):
        scheduler.request("b", cost=1)
    assert serve(scheduler, holding, 9) == ["b", "b", "a", "b", "b", "a", "b", "b", "a"]


def test_many_threads_of_one_client_do_not_buy_it_more_turns() -> None:
    """Three jobs of a (three waiting requests at a time) and one job of b alternate."""
    scheduler = FairScheduler(slots=1)
    holding = scheduler.request("a")
    waiting = {"a": [scheduler.request("a"), scheduler.request("a")], "b": []}
    waiting["b"].append(scheduler.request("b"))
    order = []
    for _ in range(8):
        scheduler.release(holding)
        (holding,) = [
            ticket for tickets in waiting.values() for ticket in tickets if ticket.granted
        ]
        waiting[str(holding.client)].remove(holding)
        order.append(holding.client)
        # The job whose batch got the slot asks for its next one at once (as a job's thread
        # does after its batch); every job always has one batch waiting.
        waiting[str(holding.client)].append(scheduler.request(holding.client))
    assert order.count("b") == 4 and order.count("a") == 4
    assert order[0] == "b"


def test_several_slots_are_held_at_once() -> None:
    scheduler = FairScheduler(slots=2)
    first, second, third = (scheduler.request(client) for client in ("a", "a", "b"))
    assert (first.granted, second.granted, third.granted) == (True, True, False)
    assert (scheduler.busy, scheduler.waiting) == (2, 1)
    scheduler.release(second)
    assert third.granted and scheduler.busy == 2


def test_a_cancelled_request_is_passed_over_and_a_slot_is_released_once() -> None:
    scheduler = FairScheduler(slots=1)
    holding = scheduler.request("a")
    gone, next_ = scheduler.request("b"), scheduler.request("c")
    scheduler.cancel(gone)
    scheduler.release(holding)
    scheduler.release(holding)  # a second release frees nothing more
    assert next_.granted and not gone.granted
    assert (scheduler.busy, scheduler.waiting) == (1, 0)
    late = scheduler.request("d")
    assert not late.granted
    scheduler.cancel(next_)  # granted meanwhile: cancelling it frees its slot
    assert late.granted


def test_an_idle_scheduler_forgets_what_clients_used() -> None:
    """A key that ran alone for a long time is not pushed back once another one arrives
    after the slots were idle: both start afresh, in arrival order."""
    scheduler = FairScheduler(slots=1)
    for _ in range(10):
        scheduler.release(scheduler.request("a", cost=1_000))
    holding = scheduler.request("c")
    scheduler.request("a")
    scheduler.request("b")
    assert serve(scheduler, holding, 2) == ["a", "b"]


def test_a_turn_releases_its_slot_even_when_the_work_fails() -> None:
    scheduler = FairScheduler(slots=1)
    with pytest.raises(RuntimeError), scheduler.turn("a", cost=10):
        assert scheduler.busy == 1
        raise RuntimeError("the model failed")
    assert scheduler.busy == 0
    assert scheduler.request("b").granted
