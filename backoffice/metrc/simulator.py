"""A small METRC look-alike on 127.0.0.1, for the tests and the demo.

It serves one METRC API version (``api="v1"`` or ``"v2"``, see ``sim_routes``; the other
answers 404) over an in-memory facility (``SimState``),
checks the Basic-auth key pair and the license number, answers bad batches with 400 and
``[{"row", "message"}]`` as METRC does, and can misbehave on purpose:

- ``fail_next(n, status=500)``: the next n calls get that status and change nothing;
- ``delay_next(seconds, count=1)``: calls are processed (and applied) at once but answered
  late, so a client with a shorter timeout gives up on a change METRC did record;
- ``go_away(after=n)``: after n more answered calls the server stops listening (later
  calls are refused); ``come_back()`` listens again on the same port with the same state;
- ``latency_ms``: every answer leaves that much later (calls are served concurrently).

``requests`` logs every call (body as received, digit for digit; never the keys), and
``applied(path)`` lists the batches that changed state, to assert exactly-once delivery.

Standalone: ``python -m backoffice.metrc.simulator --api v2 --port 8899 --seed-dir tests/samples``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import logging
import signal
import socketserver
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from backoffice.metrc.payloads import from_json, to_json
from backoffice.metrc.sim_routes import Answer, TooLarge, route
from backoffice.metrc.sim_state import DEFAULT_REASONS, Rejected, SimState

DEFAULT_LICENSE = "C10-0000789-LIC"  # the recipient license in the sample manifest
DEFAULT_VENDOR_KEY = "sim-vendor-key"
DEFAULT_USER_KEY = "sim-user-key"
HOST = "127.0.0.1"

log = logging.getLogger("metrc.simulator")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # without the leading slash or query, e.g. "packages/v1/adjust"
    query: Mapping[str, str]
    body: str  # as received
    status: int
    applied: bool  # a POST whose batch changed the state

    def json(self) -> Any:
        return from_json(self.body) if self.body else None


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, so a test never leaves a socket behind.
    daemon_threads = False
    block_on_close = True

    def __init__(self, port: int, simulator: MetrcSimulator) -> None:
        self.simulator = simulator
        super().__init__((HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer would look up the host's FQDN (a DNS query); loopback needs no name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one call per connection: no idle keep-alive to wait for on close
    server: _Server

    def do_GET(self) -> None:
        self.server.simulator._serve(self)

    do_POST = do_PUT = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class MetrcSimulator:
    """Start with ``with MetrcSimulator(seed_dir=…) as sim:``; ``sim.url`` is the base URL."""

    def __init__(
        self,
        *,
        seed_dir: Path | str | None = None,
        license_number: str = DEFAULT_LICENSE,
        vendor_key: str = DEFAULT_VENDOR_KEY,
        user_keys: Iterable[str] = (DEFAULT_USER_KEY,),
        now: Callable[[], datetime] = datetime.now,
        reasons: Iterable[Mapping[str, Any]] = DEFAULT_REASONS,
        port: int = 0,
        api: str = "v1",
        latency_ms: float = 0,
        max_window: timedelta | None = timedelta(hours=24),
        lower_case_fields: bool = False,
    ) -> None:
        if api not in ("v1", "v2"):
            raise ValueError(f"api must be v1 or v2, not {api!r}")
        self.api = api
        self.latency = latency_ms / 1000
        self.max_window = max_window
        self.lower_case_fields = lower_case_fields  # as some states spell v2 fields
        self.state = SimState(now, reasons)
        if seed_dir is not None:
            self.state.seed_dir(Path(seed_dir))
        self.license_number = license_number
        self._vendor_key = vendor_key
        self._user_keys = set(user_keys)
        self._port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._failures: deque[tuple[int, float | None]] = deque()
        self._delays: deque[float] = deque()
        self._calls_left: int | None = None  # None: no go-away planned
        self._log: list[LoggedRequest] = []

    def __repr__(self) -> str:
        return f"MetrcSimulator(url={self.url!r}, license_number={self.license_number!r}, api={self.api!r})"

    # --- life cycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}/"

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> MetrcSimulator:
        self._stopping.clear()
        self._server = _Server(self._port, self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"metrc-simulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed answers so their threads can be joined
        self._close()

    def __enter__(self) -> MetrcSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    # --- fault injection -----------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.extend([(status, retry_after)] * count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
        with self._lock:
            self._delays.extend([seconds] * count)

    def go_away(self, *, after: int = 0) -> None:
        """Stop listening now, or after ``after`` more answered calls."""
        with self._lock:
            self._calls_left = after
        if after == 0:
            self._close()

    def come_back(self) -> None:
        self._close()
        with self._lock:
            self._calls_left = None
        self.start()

    def add_user_key(self, key: str) -> None:
        with self._lock:
            self._user_keys.add(key)

    def revoke_user_key(self, key: str) -> None:
        """As METRC does when a key expires or is replaced."""
        with self._lock:
            self._user_keys.discard(key)

    # --- request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def applied(self, path: str) -> list[Any]:
        """The batches POSTed to ``path`` that changed the state, in arrival order."""
        return [r.json() for r in self.requests if r.applied and r.path == path.strip("/")]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- serving -------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        path, query = url.path.strip("/"), dict(parse_qsl(url.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self._lock:
            if self._calls_left is not None:
                if self._calls_left <= 0:
                    return  # gone: the connection closes without an answer
                self._calls_left -= 1
            delay = (self._delays.popleft() if self._delays else 0.0) + self.latency
            if self._failures:
                status, retry_after = self._failures.popleft()
                extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                answer: Answer = (status, {"Message": "An error has occurred."}, False, extra)
            else:
                answer = self._answer(handler.command, path, query, raw, handler.headers.get("Authorization"))
            status, body, applied, extra = answer
            if self.lower_case_fields and status < 400:
                body = _lower_keys(body)
            payload = b"" if body is None else to_json(body).encode()  # under the lock: state may change
            self._log.append(
                LoggedRequest(handler.command, path, query, raw.decode("utf-8", "replace"), status, applied)
            )
            server = self._server
            if self._calls_left == 0 and server is not None:
                # Stop accepting before this answer leaves, so the next call is refused.
                server.shutdown()
                server.socket.close()
        if delay and self._stopping.wait(delay):
            return
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client hung up before the answer to %s %s", handler.command, path)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            vendor, _, user = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(vendor, self._vendor_key) and any(
            hmac.compare_digest(user, key) for key in self._user_keys
        )

    def _answer(self, method: str, path: str, query: Mapping[str, str], raw: bytes, auth: str | None) -> Answer:
        if not self._authorized(auth):
            return 401, {"Message": "Authorization has been denied for this request."}, False, {}
        if query.get("licenseNumber") != self.license_number:
            return 403, {"Message": f"No valid license {query.get('licenseNumber')!r} for this user."}, False, {}
        try:
            parts = [unquote(part) for part in path.split("/")]
            return route(self.api, self.state, method, parts, query, raw, self.max_window)
        except Rejected as rejected:
            return 400, rejected.problems, False, {}
        except TooLarge as too_large:
            return 413, {"Message": str(too_large)}, False, {}


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backoffice.metrc.simulator", description="Serve a METRC look-alike on 127.0.0.1 until Ctrl-C."
    )
    parser.add_argument("--port", type=int, default=8899, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--seed-dir", type=Path, help="folder with metrc_packages_active.json and friends")
    parser.add_argument("--license", default=DEFAULT_LICENSE, help="facility license number to accept")
    parser.add_argument("--vendor-key", default=DEFAULT_VENDOR_KEY, help="vendor key to accept")
    parser.add_argument(
        "--api",
        choices=("v1", "v2"),
        default="v2",
        help="the one METRC API version to serve (the other answers 404); default v2",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="answer every call this many ms late")
    parser.add_argument(
        "--user-key", action="append", help=f"user key to accept (repeatable; default {DEFAULT_USER_KEY})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sim = MetrcSimulator(
        seed_dir=args.seed_dir,
        license_number=args.license,
        vendor_key=args.vendor_key,
        user_keys=args.user_key or (DEFAULT_USER_KEY,),
        port=args.port,
        api=args.api,
        latency_ms=args.latency_ms,
    )
    # `kill` (as a demo script stops it) shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with sim:
        state = sim.state
        print(
            f"METRC simulator (API {sim.api}) at {sim.url} for license {sim.license_number}: {len(state.packages)} packages, "
            f"{len(state.transfers)} incoming transfers, {len(state.receipts)} receipts. Ctrl-C stops it.",
            flush=True,
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
