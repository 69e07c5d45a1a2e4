"""Run the web server, the background worker and a local Stripe together, as one unit.

    python scripts/run_all.py

Starts `manage.py runserver 127.0.0.1:$PORT` (PORT defaults to 8000),
`manage.py qcluster` with the Python running this script, the demo's fake
NetSuite, HubSpot and AvaTax (FAKE_ERP_PORT 8440, FAKE_HUBSPOT_PORT 8430,
FAKE_AVATAX_PORT 8450, on 127.0.0.1 only), and, when the
`localstripe` package is installed (a development dependency), a fake Stripe
server: `scripts/localstripe_server.py $LOCALSTRIPE_PORT` (default 8420, on
127.0.0.1 only). One Ctrl-C (SIGINT), SIGTERM or SIGHUP stops them all and exits
0 once they are gone. If any of them ends by itself, the others are stopped and
this script exits non-zero (the dead process's exit code, or 1 if that was 0),
so a supervisor above it notices.

Once the local Stripe answers (it is polled for up to 20 s), one short-lived
`manage.py demo_connectors --seed-stripe ... --webhook-base ...` fills it with
demo data if it is empty and points its webhook at the web server. Its output
goes to this script's output; if it fails, a warning is printed and everything
keeps running.

Each child gets its own process group, so the terminal's Ctrl-C reaches only this
script, which then signals each whole group once: that also reaches runserver's
autoreloader child and the worker's pool processes, and nothing is signalled twice.
Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 30  # the worker finishes the task in hand before it exits
POLL_SECONDS = 0.2
LOCALSTRIPE_WAIT_SECONDS = 20
LOCALSTRIPE_API_KEY = "sk_test_demo"  # localstripe takes any sk_test_ key; the demo connector uses this one


def _port(variable: str = "PORT", default: str = "8000") -> str:
    port = os.environ.get(variable, "").strip() or default
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        sys.exit(f"run_all: {variable}={port!r} is not a TCP port number (1-65535).")
    return port


def _has_localstripe() -> bool:
    return importlib.util.find_spec("localstripe") is not None


def _commands(port: str, stripe_port: str | None) -> dict[str, list[str]]:
    manage = [sys.executable, str(ROOT / "manage.py")]
    commands = {
        "web": [*manage, "runserver", f"127.0.0.1:{port}"],
        "worker": [*manage, "qcluster"],
    }
    # The demo's fake NetSuite (connectors/erp/fake_server.py), which the
    # connector netsuite-local posts issued invoices and payments to.
    commands["fake-erp"] = [
        sys.executable,
        "-m",
        "connectors.erp.fake_server",
        "--port",
        _port("FAKE_ERP_PORT", "8440"),
    ]
    # The demo trickle's fake HubSpot and fake AvaTax (connectors hubspot-local and
    # avatax-local, set up by manage.py demo_trickle).
    commands["fake-hubspot"] = [
        sys.executable,
        "-m",
        "connectors.hubspot.fake_server",
        "--port",
        _port("FAKE_HUBSPOT_PORT", "8430"),
    ]
    commands["fake-avatax"] = [
        sys.executable,
        "-m",
        "connectors.avalara.fake_server",
        "--port",
        _port("FAKE_AVATAX_PORT", "8450"),
    ]
    if stripe_port is not None:
        commands["localstripe"] = [
            sys.executable,
            str(ROOT / "scripts" / "localstripe_server.py"),
            stripe_port,
        ]
    return commands


def _answers(url: str) -> bool:
    """Whether the Stripe API at `url` answers an authenticated request (no proxy: it is on loopback)."""
    request = urllib.request.Request(  # noqa: S310 - a fixed http://127.0.0.1 URL built in main()
        f"{url}/v1/balance", headers={"Authorization": f"Bearer {LOCALSTRIPE_API_KEY}"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=1) as response:
            return 200 <= response.status < 300
    except (OSError, ValueError):
        return False


class _Seeder:
    """Waits for the local Stripe to answer, then runs `demo_connectors --seed-stripe` once.

    Driven by the supervision loop (`step()` each turn), so waiting never stops
    run_all from noticing a dead child or a Ctrl-C. Its failure is only a warning.
    """

    def __init__(self, port: str, stripe_port: str) -> None:
        self.stripe_url = f"http://127.0.0.1:{stripe_port}"
        self.command = [
            sys.executable,
            str(ROOT / "manage.py"),
            "demo_connectors",
            "--seed-stripe",
            self.stripe_url,
            "--webhook-base",
            f"http://127.0.0.1:{port}",
        ]
        self.deadline = time.monotonic() + LOCALSTRIPE_WAIT_SECONDS
        self.proc: subprocess.Popen | None = None
        self.finished = False

    def running(self) -> dict[str, subprocess.Popen]:
        return {"seeding": self.proc} if self.proc is not None and not self.finished else {}

    def step(self) -> None:
        if self.finished:
            return
        if self.proc is None:
            if _answers(self.stripe_url):
                print(f"run_all: local Stripe answers at {self.stripe_url}; seeding it.", flush=True)
                # A fixed command built above from sys.executable and this repository's manage.py.
                self.proc = subprocess.Popen(  # noqa: S603
                    self.command, cwd=ROOT, stdin=subprocess.DEVNULL, process_group=0
                )
            elif time.monotonic() > self.deadline:
                self.finished = True
                print(
                    f"run_all: warning: the local Stripe did not answer at {self.stripe_url} within "
                    f"{LOCALSTRIPE_WAIT_SECONDS}s; it was not seeded.",
                    file=sys.stderr,
                    flush=True,
                )
            return
        if self.proc.poll() is None:
            return
        self.finished = True
        if self.proc.returncode != 0:
            print(
                f"run_all: warning: seeding the local Stripe failed (exit code {self.proc.returncode}); "
                "the demo keeps running without its Stripe data.",
                file=sys.stderr,
                flush=True,
            )


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

    SIGINT to the whole group is what each program expects from a terminal. SIGTERM to
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
    stripe_port = _port("LOCALSTRIPE_PORT", "8420") if _has_localstripe() else None
    _handle_stop_signals(_raise_stop)

    procs: dict[str, subprocess.Popen] = {}
    seeder: _Seeder | None = None
    try:
        for name, command in _commands(port, stripe_port).items():
            # Fixed commands built above from sys.executable and this repository's files.
            procs[name] = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, stdin=subprocess.DEVNULL, process_group=0
            )
        started = ", ".join(f"{name} (pid {proc.pid})" for name, proc in procs.items())
        print(f"run_all: started {started}.", flush=True)
        if stripe_port is None:
            print("run_all: localstripe is not installed, so no local Stripe runs.", flush=True)
        else:
            print(
                f"run_all: local Stripe on http://127.0.0.1:{stripe_port}/ (API key {LOCALSTRIPE_API_KEY})."
            )
            seeder = _Seeder(port, stripe_port)
        print(f"run_all: browse http://127.0.0.1:{port}/ ; press Ctrl-C to stop them all.", flush=True)
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(
                        f"run_all: {name} exited with code {proc.returncode}; stopping the rest.",
                        file=sys.stderr,
                        flush=True,
                    )
                    _handle_stop_signals(signal.SIG_IGN)
                    _stop_all({**procs, **(seeder.running() if seeder else {})})
                    return _exit_code(proc.returncode)
            if seeder is not None:
                seeder.step()
            time.sleep(POLL_SECONDS)
    except _StopRequested as stop:
        _handle_stop_signals(signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        print(
            f"run_all: {signal.Signals(stop.signum).name} received; stopping {', '.join(procs)}.", flush=True
        )
        _stop_all({**procs, **(seeder.running() if seeder else {})})
        return 0


if __name__ == "__main__":
    sys.exit(main())
