"""Time every page and API list through gunicorn: `python -m bench.http_bench --database portal_bench`.

gunicorn serves `config.wsgi` with the bench settings (DEBUG off, the bench database, the query-count
middleware) on loopback; this process is the client. Each target gets warm-up requests, then
`--requests` sequential requests, each on a new connection (gunicorn's sync workers close it after
the response), the body read to the end. Answers median and p95 in ms and the queries per request
reported by the server in `X-Bench-Queries`.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_DATABASE": database}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "/health/live", None)
            if status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def request(port: int, path: str, cookie: str | None) -> tuple[int, float, int | None]:
    headers = {"Host": "127.0.0.1", "Accept": "application/json" if path.startswith("/api/") else "text/html"}
    if cookie:
        headers["Cookie"] = cookie
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        queries = response.getheader("X-Bench-Queries")
        return response.status, elapsed, int(queries) if queries is not None else None
    finally:
        conn.close()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(database: str, requests: int, warmup: int, workers: int, rounds: int = 1) -> dict[str, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE"] = database
    import django

    django.setup()
    from django.core.management import call_command

    from bench.pages import USERS, session_cookie, targets

    call_command("migrate", interactive=False, verbosity=0)
    cookies = {key: "=".join(session_cookie(email)) for key, email in USERS.items()}
    found = targets()
    from django.db import connection

    connection.close()
    port = free_port()
    server = start_server(database, port, workers)
    results: dict[str, dict[str, Any]] = {}
    try:
        for target in found:
            cookie = cookies.get(target.user)
            for _ in range(warmup):
                status, _, _ = request(port, target.path, cookie)
                if status != 200:
                    raise RuntimeError(f"{target.name}: {target.path} answered {status}")
        # Rounds interleave the targets, so that a burst of load from elsewhere on the machine is
        # spread over all of them rather than falling on one.
        times: dict[str, list[float]] = {t.name: [] for t in found}
        queries: dict[str, list[int]] = {t.name: [] for t in found}
        per_round = max(1, requests // rounds)
        for _ in range(rounds):
            for target in found:
                cookie = cookies.get(target.user)
                for _ in range(per_round):
                    status, elapsed, count = request(port, target.path, cookie)
                    if status != 200:
                        raise RuntimeError(f"{target.name}: {target.path} answered {status}")
                    times[target.name].append(elapsed)
                    if count is not None:
                        queries[target.name].append(count)
        for target in found:
            values = times[target.name]
            results[target.name] = {
                "kind": target.kind,
                "path": target.path,
                "user": target.user,
                "requests": len(values),
                "median_ms": round(statistics.median(values), 2),
                "p95_ms": round(p95(values), 2),
                # The usual count: now and then a request also writes the session's last-seen time.
                "queries": statistics.mode(queries[target.name]) if queries[target.name] else None,
                "queries_max": max(queries[target.name]) if queries[target.name] else None,
            }
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return {"database": database, "workers": workers, "targets": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = measure(args.database, args.requests, args.warmup, args.workers, args.rounds)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
