"""Expression throughput: evaluations per second with parses cached, and parses per second.

Run: .venv/bin/python bench/bench_expressions.py [--rounds N]. Prints the median of several rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from pairflow.expressions import evaluate_template
from pairflow.expressions.context import MappingContext
from pairflow.expressions.parser import parse_template

SIMPLE = [
    "@add(1, 2)",
    "@variables('counter')",
    "@equals(variables('status'), 'done')",
    "@body('Get_order')?['id']",
    "@triggerBody()['customer']['name']",
    "@not(empty(variables('items')))",
]
MIXED = [
    *SIMPLE,
    "Order @{body('Get_order')?['id']} for @{triggerBody()['customer']['name']}",
    "@concat(toUpper(variables('status')), '-', string(add(variables('counter'), 1)))",
    "@if(greater(length(variables('items')), 2), first(variables('items')), null)",
    "@json('{\"a\": [1, 2, 3]}')?['a'][2]",
]
CONTEXT = MappingContext(
    {
        "variables": {"counter": 41, "status": "done", "items": [1, 2, 3]},
        "actions": {"Get_order": {"outputs": {"body": {"id": "o-17", "total": 12.5}}}},
        "trigger": {"outputs": {"body": {"customer": {"name": "Sophia"}}}},
    }
)


def _evaluations_per_second(templates: list[str], seconds: float) -> float:
    for text in templates:
        evaluate_template(text, CONTEXT)  # warm the cache
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            for text in templates:
                evaluate_template(text, CONTEXT)
        count += 200 * len(templates)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def _parses_per_second(templates: list[str], seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            for text in templates:
                parse_template(text)
        count += 50 * len(templates)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one round")
    options = parser.parse_args()
    results: dict[str, Callable[[], float]] = {
        "simple expressions, cached (evaluations/s)": lambda: _evaluations_per_second(
            SIMPLE, options.seconds
        ),
        "mixed expressions, cached (evaluations/s)": lambda: _evaluations_per_second(MIXED, options.seconds),
        "parse only, mixed (parses/s)": lambda: _parses_per_second(MIXED, options.seconds),
    }
    for label, measure in results.items():
        rounds = [measure() for _ in range(options.rounds)]
        print(
            f"{label}: median {statistics.median(rounds):,.0f} "
            f"(min {min(rounds):,.0f}, max {max(rounds):,.0f})"
        )


if __name__ == "__main__":
    main()
