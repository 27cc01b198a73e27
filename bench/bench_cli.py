"""Durable runs through the command line: each `pairflow run` is a new process (start-up included).

Prints runs per second and p50/p99 latency of the five-action workflow, medians of several rounds.
Usage: .venv/bin/python bench/bench_cli.py [--runs 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIVE_ACTIONS = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
    "actions": {
        "Init": {
            "type": "InitializeVariable",
            "inputs": {"variables": [{"name": "n", "type": "integer", "value": 1}]},
            "runAfter": {},
        },
        "Double": {
            "type": "Compose",
            "inputs": "@mul(variables('n'), 2)",
            "runAfter": {"Init": ["Succeeded"]},
        },
        "Check": {
            "type": "If",
            "expression": {"and": [{"greater": ["@outputs('Double')", 1]}]},
            "actions": {
                "Bump": {
                    "type": "SetVariable",
                    "inputs": {"name": "n", "value": "@add(variables('n'), 1)"},
                    "runAfter": {},
                }
            },
            "else": {"actions": {}},
            "runAfter": {"Double": ["Succeeded"]},
        },
        "Result": {"type": "Compose", "inputs": "@variables('n')", "runAfter": {"Check": ["Succeeded"]}},
    },
    "outputs": {},
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workflow = Path(tmp) / "five.json"
        workflow.write_text(json.dumps(FIVE_ACTIONS))
        store = f"sqlite:///{tmp}/bench.db"
        rates, p50s, p99s = [], [], []
        for _ in range(args.rounds):
            latencies = []
            start = time.perf_counter()
            for _ in range(args.runs):
                t0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "pairflow", "run", str(workflow), "--store", store],
                    check=True,
                    capture_output=True,
                )
                latencies.append((time.perf_counter() - t0) * 1000)
            rates.append(args.runs / (time.perf_counter() - start))
            p50s.append(percentile(latencies, 0.5))
            p99s.append(percentile(latencies, 0.99))
    print(
        f"cli: {statistics.median(rates):.1f} runs/s (one process per run), "
        f"p50 {statistics.median(p50s):.0f} ms, p99 {statistics.median(p99s):.0f} ms "
        f"(medians of {args.rounds} rounds of {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
