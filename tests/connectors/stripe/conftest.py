"""A real Stripe peer on loopback: localstripe, started once per test session.

`localstripe` is its base URL; `stripe_api` wipes its state first and returns an
httpx client that speaks to it like a Stripe integration (form-encoded POSTs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = ROOT / "scripts" / "localstripe_server.py"
TEST_KEY = "sk_test_revops_localstripe"
START_TIMEOUT = 30.0


def _read_base_url(process: subprocess.Popen, log: Path) -> str:
    """The launcher prints one line once it listens; read it without blocking forever."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if not line or not line[0].startswith("localstripe listening on "):
        process.kill()
        pytest.fail(f"localstripe did not start; its output:\n{log.read_text()[-3000:]}")
    return line[0].rsplit(" ", 1)[1].strip()


def _wait_until_answering(base_url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"localstripe exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(
                f"{base_url}/v1/balance", headers={"Authorization": f"Bearer {TEST_KEY}"}
            ).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"localstripe did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """Base URL of a localstripe process bound to 127.0.0.1 on a free port."""
    log = tmp_path_factory.mktemp("localstripe") / "server.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(  # sys.executable: the venv's python that runs pytest
            [sys.executable, str(LAUNCHER), "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        base_url = _read_base_url(process, log)
        _wait_until_answering(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture
def stripe_api(localstripe):
    """An httpx client on a freshly emptied localstripe, authenticated as an integration."""
    with httpx.Client(base_url=localstripe, headers={"Authorization": f"Bearer {TEST_KEY}"}) as client:
        client.delete("/_config/data").raise_for_status()
        yield client
