"""Fair turns at a process's prediction slots: no client's waiting work keeps another's out.

A process runs more analyze jobs than it has prediction slots (``worker_threads`` >
``predict_concurrency``); each job predicts in small batches, and every batch asks the
:class:`FairScheduler` for a turn at a slot. Turns go by *start-time fair queuing* (SFQ, Goyal,
Vin and Cheng, 1996) over clients (an analyze job's key), weighted by the batch's cost (its
characters):

- each client's requests get consecutive tags: a request starts where the client's previous
  one finished (``start = max(virtual time, client's last finish)``, ``finish = start +
  cost``), so a client with much work waiting has tags far in the future;
- a free slot goes to the waiting request with the smallest start tag (ties: the earliest
  request), and the virtual time becomes that tag;
- a client that had nothing waiting starts at the virtual time, so its first request goes
  before every request of a client that is ahead of its share: a newly arrived small job waits
  for the batches already on the slots, not for other jobs.

While several clients have work waiting, each gets an equal share of the slots' characters,
however many jobs or threads it has; a lone client gets every turn. The scheduler is pure
bookkeeping under a lock (no clock, no threads of its own): :meth:`FairScheduler.request`
and :meth:`FairScheduler.release` can be driven step by step, and :meth:`FairScheduler.turn`
is the blocking form the compute uses.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: Clients remembered before the ones that no longer matter are forgotten (see _forget).
_REMEMBERED = 256


@dataclass(eq=False)
class Ticket:
    """One request for a turn at a slot: granted at once, or when a slot is handed to it."""

    client: Hashable
    start: float
    _granted: threading.Event = field(default_factory=threading.Event, repr=False)
    _cancelled: bool = field(default=False, repr=False)
    _released: bool = field(default=False, repr=False)

    @property
    def granted(self) -> bool:
        """Whether the ticket holds a slot."""
        return self._granted.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the ticket holds a slot (or ``timeout`` passed); whether it does."""
        return self._granted.wait(timeout)


class FairScheduler:
    """``slots`` slots, handed out in turns across clients (start-time fair queuing).

    ``request(client, cost)`` returns a :class:`Ticket`, granted at once while a slot is free;
    ``release(ticket)`` frees its slot, which goes to the waiting ticket with the smallest
    start tag. A ticket given up before its turn is ``cancel``\\ led.
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._lock = threading.Lock()
        self._busy = 0
        self._virtual = 0.0
        #: Each client's last finish tag (only clients that may still be ahead of the
        #: virtual time matter).
        self._finish: dict[Hashable, float] = {}
        self._waiting: list[tuple[float, int, Ticket]] = []
        self._arrivals = itertools.count()

    @property
    def busy(self) -> int:
        """Slots held now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Tickets waiting for a slot."""
        with self._lock:
            return sum(1 for _start, _arrival, ticket in self._waiting if not ticket._cancelled)

    def request(self, client: Hashable, cost: float = 1.0) -> Ticket:
        """Ask for a slot for ``cost`` units of ``client``'s work."""
        with self._lock:
            start = max(self._virtual, self._finish.get(client, self._virtual))
            self._finish[client] = start + max(cost, 1.0)
            ticket = Ticket(client, start)
            if self._busy < self.slots:
                self._grant(ticket)
            else:
                heapq.heappush(self._waiting, (start, next(self._arrivals), ticket))
            return ticket

    def release(self, ticket: Ticket) -> None:
        """Free ``ticket``'s slot: the next waiting ticket (smallest start tag) gets it."""
        with self._lock:
            if not ticket.granted or ticket._released:
                return  # a slot is released once
            ticket._released = True
            self._busy -= 1
            while self._waiting:
                _start, _arrival, waiting = heapq.heappop(self._waiting)
                if not waiting._cancelled:
                    self._grant(waiting)
                    return
            if self._busy == 0:
                # Idle: every client starts afresh at the virtual time.
                self._finish.clear()

    def cancel(self, ticket: Ticket) -> None:
        """Give up ``ticket``: leave the queue, or free its slot if it was granted meanwhile."""
        with self._lock:
            if not ticket.granted:
                ticket._cancelled = True
                return
        self.release(ticket)

    @contextmanager
    def turn(self, client: Hashable, cost: float = 1.0) -> Iterator[None]:
        """Hold a slot for the ``with`` block, once it is ``client``'s turn."""
        ticket = self.request(client, cost)
        try:
            ticket.wait()
        except BaseException:
            self.cancel(ticket)
            raise
        try:
            yield
        finally:
            self.release(ticket)

    def _grant(self, ticket: Ticket) -> None:
        self._busy += 1
        self._virtual = max(self._virtual, ticket.start)
        ticket._granted.set()
        if len(self._finish) > _REMEMBERED:
            self._forget()

    def _forget(self) -> None:
        """Drop clients whose last finish is not ahead of the virtual time: their next
        request starts at the virtual time whether they are remembered or not."""
        self._finish = {
            client: finish for client, finish in self._finish.items() if finish > self._virtual
        }
