"""The failover drill, repeated: `pairflow drill --fault kill` (two local locations on SQLite, the front
door, 50 requests/s, a Recurrence every second) run `--runs` times (3 by default); prints each run's
detect time, RTO, acknowledged runs lost and recurrence occurrences missed/doubled, then the medians.

Targets (1 s probes, 3 failures): RTO under 5 s; lost 0; doubled 0; missed at most one.

    .venv/bin/python bench/bench_drill.py [--runs 3] [--fault kill|stop|isolate] [--rate 50]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from pairflow.continuity.drill import DrillSettings, run_drill


def one(fault: str, rate: float) -> dict[str, Any]:
    report = run_drill(DrillSettings(fault=fault, rate=rate, warmup=4.0, duration=8.0))
    detection, runs, recurrence = report["detection"], report["runs"], report["recurrence"]
    assert isinstance(detection, dict) and isinstance(runs, dict) and isinstance(recurrence, dict)
    return {
        "detect": detection["detectSeconds"],
        "rto": report["rtoSeconds"],
        "lost": runs["lost"],
        "acknowledged": runs["acknowledged"],
        "abandoned": runs["abandoned"],
        "missed": recurrence["missed"],
        "doubled": recurrence["doubled"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fault", default="kill", choices=["kill", "stop", "isolate"])
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    results = []
    for n in range(args.runs):
        found = one(args.fault, args.rate)
        results.append(found)
        print(
            f"run {n + 1}: detect {found['detect']} s, RTO {found['rto']} s, lost {found['lost']} of "
            f"{found['acknowledged']}, missed {found['missed']}, doubled {found['doubled']}, "
            f"abandoned {found['abandoned']}"
        )

    def median(key: str) -> float | None:
        values = [r[key] for r in results if r[key] is not None]
        return round(statistics.median(values), 3) if values else None

    print(
        f"median over {args.runs} {args.fault} drills: detect {median('detect')} s, RTO {median('rto')} s "
        f"(target < 5 s); lost max {max(r['lost'] for r in results)} (target 0); "
        f"doubled max {max(r['doubled'] for r in results)} (target 0); "
        f"missed max {max(r['missed'] for r in results)} (target <= 1)"
    )


if __name__ == "__main__":
    main()
