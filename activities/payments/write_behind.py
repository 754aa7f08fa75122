"""Write-behind for the bank step and the reconciliation: a chunk's database write runs on one
background thread while the activity's own thread reads and prepares the next chunk.

A chunk's write (marking a page sent, crediting the ledger, marking answers paid) is a single
statement that runs inside the database driver, where Python's interpreter lock is released, so
it overlaps with the decrypting, checking and formatting of the next chunk instead of following
it. At most one write is in flight, and writes commit in the order they were handed over.

A chunk's ``then`` (its heartbeat) runs on the activity's thread once that chunk has committed:
a heartbeat never reports progress that a kill could still lose, so a retry resumes from work
that is really in the database (at most one chunk is done again, and every write here is
idempotent). An error of a write is raised in the activity's thread at the next hand-over or at
the end; leaving the block waits for the write in flight, so nothing writes after the activity
has returned or failed."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType


class WriteBehind:
    """``with WriteBehind() as behind: behind.submit(write, then)`` for each chunk; the block's
    end waits for the last write and runs its ``then``. ``write`` must own its data (not a list
    the caller goes on filling) and open its own session."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        self._in_flight: tuple[Future[None], Callable[[], None] | None] | None = None

    def submit(self, write: Callable[[], None], then: Callable[[], None] | None = None) -> None:
        """Wait for the write in flight (raising its error, then running its ``then``), then
        start ``write`` in the background."""
        self.drain()
        self._in_flight = (self._pool.submit(write), then)

    def drain(self) -> None:
        """Wait for the write in flight, raise its error or run its ``then``."""
        if self._in_flight is None:
            return
        future, then = self._in_flight
        self._in_flight = None
        future.result()
        if then is not None:
            then()

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.drain()
            elif self._in_flight is not None:
                self._in_flight[0].exception()  # wait; the error already raised wins
                self._in_flight = None
        finally:
            self._pool.shutdown(wait=True)
