"""Engine throughput: durable five-action runs per second on SQLite, with run latency percentiles.

Workflow: InitializeVariable -> Compose -> If (on the variable, SetVariable inside) -> Compose; every
action record committed at the store's default durability. Runs start concurrently (IN_FLIGHT at a
time) so that commits of concurrent runs share transactions. Prints the median of ROUNDS rounds.

    .venv/bin/python bench/bench_engine.py [runs-per-round]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pairflow.engine.runner import Engine
from pairflow.store.sqlite import SqliteStore

ROUNDS = 5
IN_FLIGHT = 50
DEFINITION = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Init": {
            "type": "InitializeVariable",
            "inputs": {"variables": [{"name": "count", "type": "integer", "value": 1}]},
            "runAfter": {},
        },
        "Describe": {
            "type": "Compose",
            "inputs": {"count": "@variables('count')", "who": "@triggerBody()?['who']"},
            "runAfter": {"Init": ["Succeeded"]},
        },
        "Check": {
            "type": "If",
            "expression": {"and": [{"greater": ["@variables('count')", 0]}]},
            "actions": {
                "Bump": {"type": "SetVariable", "inputs": {"name": "count", "value": 2}, "runAfter": {}}
            },
            "runAfter": {"Describe": ["Succeeded"]},
        },
        "Finish": {
            "type": "Compose",
            "inputs": "@variables('count')",
            "runAfter": {"Check": ["Succeeded"]},
        },
    },
}


async def one_round(engine: Engine, runs: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(index: int) -> None:
        async with gate:
            began = time.perf_counter()
            record = await engine.run("bench", trigger_outputs={"body": {"who": index}})
            assert record.status == "Succeeded", record.error
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(runs)))
    return runs / (time.perf_counter() - began), latencies


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "bench.db")
        store.put_workflow("bench", DEFINITION, {}, datetime.now(UTC))
        engine = Engine(store)
        await one_round(engine, min(runs, 200))  # warm-up
        rates: list[float] = []
        p50s: list[float] = []
        p99s: list[float] = []
        for _ in range(ROUNDS):
            rate, latencies = await one_round(engine, runs)
            latencies.sort()
            rates.append(rate)
            p50s.append(latencies[len(latencies) // 2])
            p99s.append(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))])
        await engine.aclose()
        store.close()
    print(f"runs per round: {runs}, in flight: {IN_FLIGHT}, rounds: {ROUNDS}")
    print(
        f"throughput: {statistics.median(rates):,.0f} runs/s "
        f"(median; min {min(rates):,.0f}, max {max(rates):,.0f})"
    )
    print(
        f"latency p50: {statistics.median(p50s) * 1000:.1f} ms, p99: {statistics.median(p99s) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
