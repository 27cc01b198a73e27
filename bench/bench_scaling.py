"""Durable throughput of one location: five-action runs per second at full durability.

Three measurements, each the median of --rounds timed windows of --seconds:

1. PostgreSQL, `durability=full` (`synchronous_commit=on`): 1 and then 2 pairflow processes against
   the same database, and the ratio. Each process is an in-process engine (no HTTP): a closed loop
   of --in-flight concurrent callers, each starting a run the way a Request call does (the run and
   its trigger event committed by `Engine.fire`, shared with the fires of the same event-loop turn),
   handing it to the `Dispatcher` and waiting for its reply, which comes only once the ended run is
   committed. In-process engines measure the engine and the database, not an HTTP stack
   (bench/bench_http.py measures that).
2. The same workload on SQLite with `durability=full` (`synchronous=FULL`), with group commit and
   without it (`Engine(group_commit=False)`: every update in its own transaction, one fsync each).
3. DBOS (`pip install dbos`, not a pairflow dependency: the bench skips it with a note when missing)
   running an equivalent five-step workflow (each step a small function whose output DBOS records
   durably) on the same PostgreSQL server at the same concurrency, one process, side by side with
   pairflow's one-process figure.

The workflow is bench/bench_engine.py's: InitializeVariable -> Compose -> If (SetVariable inside) ->
Compose. A PostgreSQL server comes from --postgres or $PAIRFLOW_BENCH_POSTGRES_URL; without either,
the bench provisions a throwaway one with scripts/postgres.sh and stops it at the end. Each
measurement uses a fresh database on that server.

    .venv/bin/python bench/bench_scaling.py [--rounds 3] [--seconds 3] [--in-flight 64]

Targets (this 2-core machine): 2 processes >= 1.6x 1 process on PostgreSQL; SQLite at full durability
with group commit > 1,000 runs/s; pairflow ahead of DBOS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench_engine import DEFINITION

from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import Engine, ordered_id
from pairflow.store import open_store
from pairflow.store.base import Store
from pairflow.store.records import TriggerEvent, TriggerFire

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = "bench"
REPLY_TIMEOUT = 60.0
POSTGRES_URL_VARIABLE = "PAIRFLOW_BENCH_POSTGRES_URL"


# -- one process's load: a closed loop of callers, counting replies inside the timed window --------
async def closed_loop(
    one_run: Callable[[int], Awaitable[None]], in_flight: int, start_at: float, seconds: float
) -> int:
    """Keep `in_flight` runs going until the window ends; how many ended inside the window."""
    deadline = start_at + seconds
    counted = 0

    async def caller(slot: int) -> None:
        nonlocal counted
        index = slot
        while time.time() < deadline:
            await one_run(index)
            index += in_flight
            if start_at <= time.time() <= deadline:
                counted += 1

    await asyncio.gather(*(caller(slot) for slot in range(in_flight)))
    return counted


class PairflowLoad:
    """An engine and a dispatcher on one store; `one_run` starts a run as a Request call does."""

    def __init__(self, store: Store, *, group_commit: bool) -> None:
        self.store = store
        self.engine = Engine(store, group_commit=group_commit)
        self.dispatcher = Dispatcher(self.engine, max_concurrent_runs=1000)

    async def one_run(self, index: int) -> None:
        engine = self.engine
        run = engine.prepare_run(WORKFLOW, trigger_outputs={"body": {"who": index}}, lease=True)
        event = TriggerEvent(
            id=ordered_id(),
            workflow=WORKFLOW,
            trigger="manual",
            status="Succeeded",
            fired_at=run.created_at,
            run_ids=(run.id,),
        )
        await engine.fire(TriggerFire(event=event, runs=[run]))
        self.dispatcher.submit(run)
        reply = await self.dispatcher.wait_reply(run.id, REPLY_TIMEOUT)
        if reply is None or reply.status != "Succeeded":
            raise SystemExit(f"run {run.id}: no successful reply ({reply})")

    async def aclose(self) -> None:
        await self.dispatcher.stop(0)
        await self.engine.aclose()


async def pairflow_window(
    store_url: str, *, group_commit: bool, in_flight: int, seconds: float, handshake: bool
) -> int:
    store = open_store(store_url)
    load = PairflowLoad(store, group_commit=group_commit)
    try:
        await closed_loop(load.one_run, in_flight, time.time(), 0.5)  # warm-up: plans, pool, caches
        start_at = _await_start() if handshake else time.time() + 0.1
        return await closed_loop(load.one_run, in_flight, start_at, seconds)
    finally:
        await load.aclose()
        store.close()


# -- DBOS: the same five steps, each recorded durably by DBOS ---------------------------------------
async def dbos_window(system_url: str, *, in_flight: int, seconds: float, handshake: bool) -> int:
    from dbos import DBOS  # an optional peer, installed for this bench only

    DBOS(config={"name": "pairflow-bench", "system_database_url": system_url, "log_level": "WARNING"})

    @DBOS.step()
    async def init() -> int:
        return 1

    @DBOS.step()
    async def describe(count: int, who: int) -> dict[str, int]:
        return {"count": count, "who": who}

    @DBOS.step()
    async def check(count: int) -> bool:
        return count > 0

    @DBOS.step()
    async def bump() -> int:
        return 2

    @DBOS.step()
    async def finish(count: int) -> int:
        return count

    @DBOS.workflow()
    async def five_steps(who: int) -> int:
        count = await init()
        await describe(count, who)
        if await check(count):
            count = await bump()
        return await finish(count)

    DBOS.launch()
    try:

        async def one_run(index: int) -> None:
            if await five_steps(index) != 2:
                raise SystemExit("DBOS workflow returned a wrong result")

        await closed_loop(one_run, in_flight, time.time(), 0.5)
        start_at = _await_start() if handshake else time.time() + 0.1
        return await closed_loop(one_run, in_flight, start_at, seconds)
    finally:
        DBOS.destroy()


def _await_start() -> float:
    """Worker side of the handshake: say ready, then read the shared window start (epoch seconds)."""
    print("ready", flush=True)
    return float(sys.stdin.readline())


def worker_main(args: argparse.Namespace) -> None:
    if args.worker == "dbos":
        counted = asyncio.run(
            dbos_window(args.url, in_flight=args.in_flight, seconds=args.seconds, handshake=True)
        )
    else:
        counted = asyncio.run(
            pairflow_window(
                args.url, group_commit=True, in_flight=args.in_flight, seconds=args.seconds, handshake=True
            )
        )
    print(json.dumps({"runs": counted}), flush=True)


# -- the parent: processes, rounds, databases -------------------------------------------------------
def next_xid(url: str) -> int:
    """The server's next transaction id: every write transaction takes one, reads take none."""
    import psycopg

    plain = urlunsplit(urlsplit(url)._replace(query=""))  # without pairflow's own options
    with psycopg.connect(plain, autocommit=True) as connection:
        row = connection.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
    assert row is not None
    return int(row[0])


@dataclass
class Window:
    rate: float  # runs per second
    writes_per_run: float  # write transactions on the server per run, during the window


def processes_window(kind: str, url: str, processes: int, in_flight: int, seconds: float) -> Window:
    """Start `processes` workers, let each warm up, open one shared window; total runs per second."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--url", url]
    command += ["--in-flight", str(in_flight), "--seconds", str(seconds)]
    workers = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline().strip()
            if line != "ready":
                raise SystemExit(f"a {kind} worker failed to start (said {line!r})")
        start_at = time.time() + 0.3
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(f"{start_at}\n")
            worker.stdin.flush()
        time.sleep(max(0.0, start_at - time.time()))
        first_xid = next_xid(url)
        time.sleep(max(0.0, start_at + seconds - time.time()))
        writes = next_xid(url) - first_xid
        total = 0
        for worker in workers:
            out, _ = worker.communicate(timeout=seconds + 60)
            if worker.returncode != 0:
                raise SystemExit(f"a {kind} worker failed (exit {worker.returncode})")
            total += json.loads(out.strip().splitlines()[-1])["runs"]
        return Window(total / seconds, writes / max(total, 1))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


@dataclass
class Figures:
    rates: list[float]
    writes_per_run: list[float] = field(default_factory=list)

    def add(self, window: Window) -> None:
        self.rates.append(window.rate)
        self.writes_per_run.append(window.writes_per_run)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    def show(self) -> str:
        shown = f"{self.median:8,.0f} runs/s  (rounds: {', '.join(f'{rate:,.0f}' for rate in self.rates)})"
        if self.writes_per_run:
            shown += f"; {statistics.median(self.writes_per_run):.1f} write transactions per run"
        return shown


class PostgresServer:
    """The server to measure on: given, or provisioned with scripts/postgres.sh and stopped at exit."""

    def __init__(self, given: str | None) -> None:
        self._folder: str | None = None
        if given:
            self.url = given
            return
        self._folder = tempfile.mkdtemp(prefix="pf-bench-pg-")
        os.rmdir(self._folder)  # postgres.sh wants a new or empty directory and sets its mode itself
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "postgres.sh"), "start", self._folder],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"cannot provision PostgreSQL: {done.stderr.strip()}")
        self.url = done.stdout.strip().splitlines()[-1]

    def database(self, name: str) -> str:
        """A fresh, empty database `name` on the server; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def setting(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            row = connection.execute("SELECT current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else "?"

    def close(self) -> None:
        if self._folder is not None:
            subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop", self._folder])


def deploy(url: str) -> None:
    store = open_store(url)
    try:
        store.put_workflow(WORKFLOW, DEFINITION, {}, datetime.now(UTC))
    finally:
        store.close()


def with_full(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}durability=full"


def postgres_rounds(server: PostgresServer, args: argparse.Namespace) -> tuple[Figures, Figures]:
    """1 process, then 2, in each round: both see the same moment's load on the machine."""
    one, two = Figures([]), Figures([])
    for round_number in range(args.rounds):
        for processes, figures in ((1, one), (2, two)):
            name = f"pf_bench_{os.getpid()}_{processes}_{round_number}"
            url = with_full(server.database(name))
            try:
                deploy(url)
                figures.add(processes_window("pairflow", url, processes, args.in_flight, args.seconds))
            finally:
                server.drop(name)
    return one, two


def dbos_rounds(server: PostgresServer, args: argparse.Namespace) -> Figures:
    figures = Figures([])
    for round_number in range(args.rounds):
        name = f"pf_bench_dbos_{os.getpid()}_{round_number}"
        url = server.database(name)
        try:
            figures.add(processes_window("dbos", url, 1, args.in_flight, args.seconds))
        finally:
            server.drop(name)
    return figures


def sqlite_rounds(group_commit: bool, args: argparse.Namespace, durability: str = "full") -> Figures:
    rates: list[float] = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db?durability={durability}"
            deploy(url)
            counted = asyncio.run(
                pairflow_window(
                    url,
                    group_commit=group_commit,
                    in_flight=args.in_flight,
                    seconds=args.seconds,
                    handshake=False,
                )
            )
            rates.append(counted / args.seconds)
    return Figures(rates)


def dbos_available() -> str | None:
    """None when DBOS imports; else why not."""
    try:
        import dbos  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed window")
    parser.add_argument("--in-flight", type=int, default=64, help="concurrent runs per process")
    parser.add_argument("--postgres", default=os.environ.get(POSTGRES_URL_VARIABLE), help="server URL")
    parser.add_argument("--skip", action="append", default=[], choices=["postgres", "sqlite", "dbos"])
    parser.add_argument("--worker", choices=["pairflow", "dbos"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    print(
        f"five-action runs, full durability; {args.in_flight} runs in flight per process; "
        f"median of {args.rounds} windows of {args.seconds:g} s; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews every figure)"
    )
    if "sqlite" not in args.skip:
        grouped = sqlite_rounds(True, args)
        single = sqlite_rounds(False, args)
        print(f"SQLite synchronous=FULL, group commit    {grouped.show()}")
        print(f"SQLite synchronous=FULL, no group commit {single.show()}")
        print(f"  group commit: {grouped.median / single.median:.2f}x")
        normal = sqlite_rounds(True, args, "normal")
        print(f"SQLite synchronous=NORMAL, group commit  {normal.show()}  (for reference: not power-safe)")
    if "postgres" in args.skip:
        return
    server = PostgresServer(args.postgres)
    try:
        print(
            f"PostgreSQL {server.setting('server_version')}: fsync={server.setting('fsync')}, "
            f"store synchronous_commit=on (durability=full)"
        )
        one, two = postgres_rounds(server, args)
        print(f"PostgreSQL, 1 process                    {one.show()}")
        print(f"PostgreSQL, 2 processes                  {two.show()}")
        ratios = ", ".join(f"{b / a:.2f}" for a, b in zip(one.rates, two.rates, strict=True))
        print(f"  2 processes / 1 process: {two.median / one.median:.2f}x (target >= 1.6x; rounds: {ratios})")
        if "dbos" in args.skip:
            return
        missing = dbos_available()
        if missing is not None:
            print(f"DBOS: skipped, it does not import ({missing}); `.venv/bin/pip install dbos` to compare")
            return
        peer = dbos_rounds(server, args)
        print(f"DBOS {_dbos_version()}, 1 process, same server     {peer.show()}")
        print(f"  pairflow / DBOS (1 process each): {one.median / peer.median:.2f}x")
    finally:
        server.close()


def _dbos_version() -> str:
    from importlib.metadata import version

    return version("dbos")


if __name__ == "__main__":
    main()
