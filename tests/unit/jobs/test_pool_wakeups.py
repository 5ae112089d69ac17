"""A pool's idle threads: a queued job wakes one of them, a stop wakes them all."""

from __future__ import annotations

import threading

from lexicraft.jobs.worker import Wakeups

#: Long enough that no waiter in these tests ends by its timeout.
FOREVER_S = 60.0


def waiters(wakeups: Wakeups, count: int) -> tuple[list[threading.Thread], list[bool]]:
    woken: list[bool] = []
    lock = threading.Lock()
    started = threading.Barrier(count + 1)

    def wait() -> None:
        started.wait()
        came = wakeups.wait(FOREVER_S)
        with lock:
            woken.append(came)

    threads = [threading.Thread(target=wait, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    started.wait()
    return threads, woken


def wait_for_first(threads: list[threading.Thread]) -> None:
    while all(thread.is_alive() for thread in threads):
        threads[0].join(0.01)


def test_a_post_wakes_one_idle_thread_and_a_stop_wakes_the_rest() -> None:
    wakeups = Wakeups(limit=3)
    threads, woken = waiters(wakeups, 3)

    wakeups.post()
    wait_for_first(threads)
    # The others stay asleep: one queued job, one thread looking for it.
    assert sum(thread.is_alive() for thread in threads) == 2
    assert woken == [True]

    wakeups.post_all()
    for thread in threads:
        thread.join(FOREVER_S)
    assert woken == [True, True, True]


def test_posts_without_a_waiter_are_kept_up_to_the_limit() -> None:
    wakeups = Wakeups(limit=2)
    for _ in range(5):
        wakeups.post()

    assert [wakeups.wait(0) for _ in range(3)] == [True, True, False]
