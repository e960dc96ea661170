"""The reference for bench_checkin.py: a bare Starlette endpoint that reads a JSON scan and does one SQLite
insert (WAL, synchronous=NORMAL, a unique nonce), with no guard, session, ORM or rules. Served by uvicorn:

    BARE_DB=/tmp/bare.db uvicorn --app-dir bench bare_insert_app:app
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_connection = sqlite3.connect(
    os.environ.get("BARE_DB", "/tmp/bare.db"), check_same_thread=False, isolation_level=None
)
_connection.execute("PRAGMA journal_mode=WAL")
_connection.execute("PRAGMA synchronous=NORMAL")
_connection.execute(
    "CREATE TABLE IF NOT EXISTS scans (id INTEGER PRIMARY KEY, nonce TEXT UNIQUE, code TEXT, door TEXT, at REAL)"
)
_lock = threading.Lock()


async def checkin(request: Request) -> JSONResponse:
    body = await request.json()
    with _lock:
        _connection.execute(
            "INSERT INTO scans (nonce, code, door, at) VALUES (?, ?, ?, ?)",
            (body["nonce"], body["code"], body.get("door", ""), time.time()),
        )
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/api/checkin", checkin, methods=["POST"])])
