"""The database connection a run's engine works on, and what may overlap.

A run is one PostgreSQL backend's work, so it uses one core. When the run's
transaction is the outermost one (a worker's task, a command) the engine gets a
connection of its own, so that the two slowest steps can run at once on two
cores: the engine's transaction writes the million matched report lines while
the run's transaction opens and resolves the breaks in the exception queue.

- The engine's transaction holds the temporary tables and writes the report's
  lines and totals and the run's line ranges; the run's transaction writes the
  breaks and the run's outcome. The engine's commits first, just before the
  run's: a run whose own commit then fails has its lines and totals discarded
  by the failure handling (`runs.discard_results`), as does a run whose worker
  was lost in between (`runs.fail_lost_runs`).
- Inside a caller's transaction (a test, a resubmission that changed data
  first) a second connection would not see what that transaction wrote, so the
  engine works on the run's connection and the steps run one after another. So
  it does on SQLite, which has one writer, and when the server refuses a second
  connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, connection, connections

logger = logging.getLogger(__name__)


def own_connection_possible() -> bool:
    """Whether a run started now may give its engine a connection of its own:
    on PostgreSQL, with no transaction of the caller's open (what a second
    connection could not see)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class EngineSession:
    """The engine's cursor: on a connection of its own (`separate`), in a
    transaction committed by `commit`, or on the run's connection."""

    def __init__(self, *, separate: bool):
        self.separate = False
        self.wrapper = connection
        if separate:
            self._open_own()
        self.cursor = self.wrapper.cursor()
        self.committed = False

    def _open_own(self) -> None:
        own = connections.create_connection("default")
        try:
            own.set_autocommit(False)  # connects
        except DatabaseError:
            # The server refuses one more connection (max_connections, say): the run still
            # runs, its steps one after the other on its own connection.
            logger.warning("reconciliation: no second database connection, one is used", exc_info=True)
            own.close()
            return
        # The matched lines are written from a thread of the run's, on this connection.
        own.inc_thread_sharing()
        self.wrapper, self.separate = own, True

    def __enter__(self) -> EngineSession:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.cursor.close()
        if not self.separate:
            return
        try:
            if not self.committed:
                self.wrapper.rollback()
        finally:
            self.wrapper.dec_thread_sharing()
            self.wrapper.close()

    def alongside(self, work: Callable[[], object]) -> Alongside:
        """Run `work` (a statement on this session's cursor) while the caller
        goes on with the run's connection; inline, first, when there is one
        connection."""
        return Alongside(self, work)

    def commit(self) -> None:
        if self.separate:
            self.wrapper.commit()
            self.committed = True


class Alongside:
    """A context: `work` runs in a thread from entering until the end of the
    block, which waits for it (or cancels it, when the block fails). Its result
    is `.result`, the seconds it took `.seconds`."""

    def __init__(self, session: EngineSession, work: Callable[[], object]):
        self.session = session
        self.work = work
        self.result = None
        self.seconds = 0.0
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self.result = self.work()
        except BaseException as exc:  # handed to the run's thread, which raises it
            self.error = exc
        self.seconds = time.perf_counter() - started

    def __enter__(self) -> Alongside:
        if self.session.separate:
            self.thread = threading.Thread(target=self._run, name="reconciliation-lines", daemon=True)
            self.thread.start()
        else:
            self._run()
            self._raise()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.thread is None:
            return
        if exc is not None and self.thread.is_alive():
            # The run failed meanwhile: stop the statement rather than wait for it.
            try:
                self.session.wrapper.connection.cancel_safe(timeout=10)
            except Exception:
                logger.exception("could not cancel the report lines' statement")
        self.thread.join()
        if exc is None:
            self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error
