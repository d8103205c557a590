"""``moto_server`` whose conditional writes are atomic, as they are on S3.

moto (5.x) answers ``PutObject`` with ``If-None-Match: *`` by looking the key up and then storing the
object, two steps on a threaded werkzeug server: two racing conditional PUTs can both pass the look-up
and both "succeed", which S3 itself never allows. The project's write-once zones rely on S3's guarantee
(``erenhot.storage.Storage.create``), so the test server must give it too: this wrapper runs moto's own
WSGI application on the same threaded server but serialises the requests that carry a precondition
(``If-None-Match`` / ``If-Match``). Everything else is moto unchanged.

Usage (as ``moto_server``): ``python tests/moto_atomic_server.py -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class AtomicConditionalWrites:
    """WSGI middleware: one conditional write at a time (check and store then happen as one step)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        conditional = environ.get("REQUEST_METHOD") in ("PUT", "POST") and (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ)
        if not conditional:
            return self.app(environ, start_response)
        with self.lock:
            # consume the response inside the lock: the object is stored while the app runs
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, AtomicConditionalWrites(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
