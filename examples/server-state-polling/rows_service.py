"""A tiny service for the server-side-state polling pattern: a table of rows with an isRead flag.

GET /rows answers 200 {"rows": [...]} with every unread row and marks them read in the same
transaction, or 202 when none is unread — so the server, not the poller, remembers what was
delivered, and any number of pollers (active-active locations) never get a row twice.
POST /rows {"payload": ...} adds a row. Run it: `python rows_service.py --port 8081`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RowTable:
    """The rows, in SQLite; reading unread rows marks them read atomically."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload TEXT, isRead INTEGER DEFAULT 0)"
        )
        self._lock = threading.Lock()

    def add(self, payload: Any) -> int:
        with self._lock:
            cursor = self._db.execute("INSERT INTO rows (payload) VALUES (?)", (json.dumps(payload),))
            return int(cursor.lastrowid or 0)

    def take_unread(self) -> list[dict[str, Any]]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            found = self._db.execute("SELECT id, payload FROM rows WHERE isRead = 0 ORDER BY id").fetchall()
            self._db.execute("UPDATE rows SET isRead = 1 WHERE isRead = 0")
            self._db.execute("COMMIT")
        return [{"id": row_id, "payload": json.loads(payload)} for row_id, payload in found]


def make_server(table: RowTable, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/rows":
                self._send(404, {"error": "not found"})
                return
            rows = table.take_unread()
            if rows:
                self._send(200, {"rows": rows})
            else:
                self._send(202, None)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._send(201, {"id": table.add(body.get("payload"))})

        def _send(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--db", default=":memory:")
    options = parser.parse_args()
    server = make_server(RowTable(options.db), port=options.port)
    print(f"rows service on http://127.0.0.1:{server.server_address[1]}/rows")
    server.serve_forever()


if __name__ == "__main__":
    main()
