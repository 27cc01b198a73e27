"""HTTP throughput of `pairflow serve`: Request → Compose → Response, every run durable.

Starts `pairflow serve` as a subprocess (its own store in a temporary folder, default durability),
measures the time from process start to /health/ready and the idle RSS (VmRSS), deploys the
workflow, and drives POSTs of a small JSON body at its callback URL from a SEPARATE process: `wrk`
(16 connections, 1 thread as in the issue's `wrk -t1 -c16`, a Lua script for the POST) when
installed — it is installed with apt-get only when missing and --install-wrk is given — else a
Python asyncio keep-alive load generator (`--load-generator python`, also the fallback). A bare
Starlette echo app on uvicorn with the same settings (uvloop, httptools, no access log) is
measured in the same way, and pairflow's rate is printed as a ratio to it. Each figure is the
median of --repeat runs.

    .venv/bin/python bench/bench_http.py [--duration 15] [--connections 16] [--repeat 3]

Targets: >= 2,400 req/s with p99 < 20 ms; idle RSS < 60 MB; ready in < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

API_KEY = "bench-api-key-0123"
BODY = json.dumps({"order": 42, "items": ["a", "b"], "note": "bench"})
WORKFLOW = {
    "definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
        "actions": {
            "Compose": {"type": "Compose", "inputs": {"echo": "@triggerBody()"}, "runAfter": {}},
            "Response": {
                "type": "Response",
                "kind": "Http",
                "inputs": {"statusCode": 200, "body": "@outputs('Compose')"},
                "runAfter": {"Compose": ["Succeeded"]},
            },
        },
    }
}
BARE_APP = textwrap.dedent(
    """
    import socket, sys, uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(2048)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    """
)
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""
PYTHON_LOAD = textwrap.dedent(
    """
    import asyncio, sys, time
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    body, conns, duration = sys.argv[4].encode(), int(sys.argv[5]), float(sys.argv[6])
    request = (f"POST {path} HTTP/1.1\\r\\nHost: {host}:{port}\\r\\nContent-Type: application/json\\r\\n"
               f"Content-Length: {len(body)}\\r\\n\\r\\n").encode() + body
    latencies = []
    async def worker(stop):
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()
    async def main():
        stop = time.perf_counter() + duration
        await asyncio.gather(*(worker(stop) for _ in range(conns)))
    asyncio.run(main())
    latencies.sort()
    n = len(latencies)
    p50, p99 = latencies[n // 2], latencies[min(n - 1, int(n * 0.99))]
    print(f"{n / duration:.1f} {p50 * 1000:.3f} {p99 * 1000:.3f}")
    """
)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_pairflow(folder: Path) -> tuple[subprocess.Popen[str], str, float]:
    """Start `pairflow serve`; returns the process, its URL and seconds from start to ready."""
    env = {**os.environ, "PAIRFLOW_API_KEYS": API_KEY}
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pairflow.cli.serve_command",
            "--store",
            str(folder / "bench.db"),
            "--location",
            "bench",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
    with httpx.Client(base_url=url, timeout=5) as client:
        while client.get("/health/ready").status_code != 200:
            time.sleep(0.005)
    return process, url, time.perf_counter() - started


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return float("nan")
    value, unit = float(match[1]), match[2]
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def drive(
    url: str, connections: int, duration: float, generator: str, threads: int = 1
) -> tuple[float, float, float]:
    """Requests/s, p50 ms, p99 ms of POSTing BODY at `url` from a separate process."""
    if generator == "wrk":
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT % BODY)
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{int(duration)}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        os.unlink(script.name)
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
        # Anchored to the start of a line: "+/- Stdev" percentages like "75.50%" end in "50%" too.
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if errors:
            print(f"  warning: {errors[1]} non-2xx answers", file=sys.stderr)
        return rate, p50, p99
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PYTHON_LOAD,
            parts.hostname or "127.0.0.1",
            str(parts.port),
            path,
            BODY,
            str(connections),
            str(duration),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate, p50, p99 = (float(x) for x in out.split())
    return rate, p50, p99


def ensure_wrk(install: bool) -> bool:
    if shutil.which("wrk"):
        return True
    if install and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (1, as the issue's `wrk -t1 -c16`)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load-generator", choices=("wrk", "python"), default="wrk")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk when missing")
    args = parser.parse_args()
    generator = args.load_generator
    if generator == "wrk" and not ensure_wrk(args.install_wrk):
        print("wrk not found: using the Python load generator", file=sys.stderr)
        generator = "python"

    results: dict[str, list[float]] = {k: [] for k in ("ready", "rss", "rate", "p50", "p99", "bare", "ratio")}
    for round_number in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            process, url, ready = start_pairflow(Path(folder))
            try:
                time.sleep(0.5)
                rss = _rss_mb(process.pid)
                headers = {"x-api-key": API_KEY}
                with httpx.Client(base_url=url, timeout=10) as client:
                    client.put("/api/workflows/bench", json=WORKFLOW, headers=headers).raise_for_status()
                    target = client.post(
                        "/api/workflows/bench/triggers/manual/listCallbackUrl", headers=headers
                    ).json()["value"]
                    check = client.post(target, content=BODY, headers={"content-type": "application/json"})
                    assert check.status_code == 200, check.text
                rate, p50, p99 = drive(target, args.connections, args.duration, generator, args.wrk_threads)
            finally:
                process.terminate()
                process.communicate(timeout=30)
        bare_process = subprocess.Popen([sys.executable, "-c", BARE_APP], stdout=subprocess.PIPE, text=True)
        try:
            assert bare_process.stdout is not None
            bare_url = bare_process.stdout.readline().strip() + "/echo"
            bare_rate = drive(bare_url, args.connections, args.duration, generator, args.wrk_threads)[0]
        finally:
            bare_process.terminate()
            bare_process.communicate(timeout=30)
        for key, value in (
            ("ready", ready),
            ("rss", rss),
            ("rate", rate),
            ("p50", p50),
            ("p99", p99),
            ("bare", bare_rate),
            ("ratio", rate / bare_rate),
        ):
            results[key].append(value)
        print(
            f"round {round_number + 1}: ready {ready * 1000:.0f} ms, idle RSS {rss:.1f} MB, "
            f"{rate:,.0f} req/s (p50 {p50:.2f} ms, p99 {p99:.2f} ms), bare {bare_rate:,.0f} req/s"
        )
    median = {key: statistics.median(values) for key, values in results.items()}
    print(f"\nmedians of {args.repeat} ({generator}, {args.connections} connections, {args.duration:g} s):")
    print(
        f"  pairflow serve   {median['rate']:,.0f} req/s   "
        f"p50 {median['p50']:.2f} ms   p99 {median['p99']:.2f} ms"
    )
    print(f"  bare Starlette   {median['bare']:,.0f} req/s   ratio {median['ratio']:.2f}")
    print(f"  idle RSS         {median['rss']:.1f} MB (target < 60)")
    print(f"  start to ready   {median['ready'] * 1000:.0f} ms (target < 1000)")


if __name__ == "__main__":
    main()
