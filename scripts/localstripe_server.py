"""Run localstripe (a fake, stateful Stripe server) on 127.0.0.1 only.

    python scripts/localstripe_server.py PORT     # PORT 0 picks a free port

localstripe's own launcher listens on every interface and pickles its state into
a fixed file in the system temp folder, which two test runs on one machine would
share. This launcher binds a loopback socket, keeps the state file in a private
temporary folder that is removed on exit, and prints one line to stdout once the
socket listens:

    localstripe listening on http://127.0.0.1:PORT

localstripe is GPL-3.0 and a development dependency: it runs here as a separate
process and none of its code is copied into revops.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import socket
import sys
import tempfile
from pathlib import Path

HOST = "127.0.0.1"


def _keep_state_in(folder: Path) -> None:
    """Point localstripe's store persistence at `folder` instead of /tmp."""
    from localstripe.resources import Store

    state_file = folder / "localstripe.pickle"

    def dump_to_disk(self) -> None:
        with state_file.open("wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    def try_load_from_disk(self) -> None:
        # The folder is new for every run: there is never an old state to load.
        if state_file.exists():
            with state_file.open("rb") as f:
                old = pickle.load(f)  # noqa: S301 - a file this process wrote itself
            self.clear()
            self.update(old)

    Store.dump_to_disk = dump_to_disk
    Store.try_load_from_disk = try_load_from_disk


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("port", type=int, help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="localstripe-") as folder:
        _keep_state_in(Path(folder))
        # Imported after the patch, so not even the first write reaches /tmp.
        from aiohttp import web
        from localstripe.server import app

        sock = _listen(args.port)
        port = sock.getsockname()[1]
        print(f"localstripe listening on http://{HOST}:{port}", flush=True)
        access_log = logging.getLogger("aiohttp.access") if args.access_log else None
        if access_log is not None:
            logging.basicConfig(stream=sys.stderr, level=logging.INFO)
        # print=None: the one line above is all a parent reading stdout will get.
        web.run_app(app, sock=sock, access_log=access_log, print=None)


if __name__ == "__main__":
    main()
