"""Run the web server and the background worker together, as one unit.

    python scripts/run_all.py

Starts `manage.py runserver 127.0.0.1:$PORT` (PORT defaults to 8000) and
`manage.py qcluster` with the Python running this script. One Ctrl-C (SIGINT),
SIGTERM or SIGHUP stops both and exits 0 once they are gone. If either process
ends by itself, the other is stopped and this script exits non-zero (the dead
process's exit code, or 1 if that was 0), so a supervisor above it notices.

Each child gets its own process group, so the terminal's Ctrl-C reaches only this
script, which then signals each whole group once: that also reaches runserver's
autoreloader child and the worker's pool processes, and nothing is signalled twice.
Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 30  # the worker finishes the task in hand before it exits
POLL_SECONDS = 0.2


def _port() -> str:
    port = os.environ.get("PORT", "").strip() or "8000"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        sys.exit(f"run_all: PORT={port!r} is not a TCP port number (1-65535).")
    return port


def _commands(port: str) -> dict[str, list[str]]:
    manage = [sys.executable, str(ROOT / "manage.py")]
    return {
        "web": [*manage, "runserver", f"127.0.0.1:{port}"],
        "worker": [*manage, "qcluster"],
    }


class _StopRequested(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum: int, _frame: object) -> None:
    raise _StopRequested(signum)


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def _stop_all(procs: dict[str, subprocess.Popen]) -> None:
    """Stop every child as a terminal's Ctrl-C would, then SIGKILL what outlives the grace period.

    SIGINT to the whole group is what both programs expect from a terminal. SIGTERM to
    the group is not: it kills qcluster's pool processes under its sentinel, which then
    never finishes stopping.
    """
    for proc in procs.values():
        if proc.poll() is None:
            _signal_group(proc, signal.SIGINT)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run_all: {name} did not stop within {GRACE_SECONDS}s; killing it.", file=sys.stderr)
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    # The group may still hold grandchildren whose parent has already exited.
    for proc in procs.values():
        _signal_group(proc, signal.SIGKILL)


def _exit_code(returncode: int) -> int:
    if returncode < 0:  # killed by a signal
        return 128 - returncode
    return returncode or 1


def _handle_stop_signals(handler) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


def main() -> int:
    port = _port()
    _handle_stop_signals(_raise_stop)

    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, command in _commands(port).items():
            # Fixed commands built above from sys.executable and this repository's manage.py.
            procs[name] = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, stdin=subprocess.DEVNULL, process_group=0
            )
        print(
            f"run_all: web server (pid {procs['web'].pid}) and worker (pid {procs['worker'].pid}) started.\n"
            f"run_all: browse http://127.0.0.1:{port}/ ; press Ctrl-C to stop both.",
            flush=True,
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(
                        f"run_all: {name} exited with code {proc.returncode}; stopping the rest.",
                        file=sys.stderr,
                        flush=True,
                    )
                    _handle_stop_signals(signal.SIG_IGN)
                    _stop_all(procs)
                    return _exit_code(proc.returncode)
            time.sleep(POLL_SECONDS)
    except _StopRequested as stop:
        _handle_stop_signals(signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        print(
            f"run_all: {signal.Signals(stop.signum).name} received; stopping web server and worker.",
            flush=True,
        )
        _stop_all(procs)
        return 0


if __name__ == "__main__":
    sys.exit(main())
