"""examples/server-state-polling: each row of the table is processed by exactly one run."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from pathlib import Path
from types import ModuleType

from pairflow.engine.clock import VirtualClock
from tests.triggers.conftest import T0, Location, history, runs, until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "server-state-polling"


def load_service() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rows_service", EXAMPLE / "rows_service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_row_is_processed_once_by_the_polling_example(db: Path, clock: VirtualClock) -> None:
    service = load_service()
    table = service.RowTable()
    server = service.make_server(table)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/rows"
    definition = json.loads((EXAMPLE / "workflow.json").read_text())

    async def scenario() -> list[int]:
        location = await Location(db, clock).start()
        location.store.put_workflow("rows", definition, {"rowsUrl": url}, T0)
        for number in range(3):
            table.add({"n": number})
        await location.service.workflow_changed("rows")
        await until(lambda: len(runs(location.store, "rows")) == 3)
        for number in range(3, 5):
            table.add({"n": number})
        await until(lambda: len(runs(location.store, "rows")) == 5)
        skipped_before = sum(event.status == "Skipped" for event in history(location.store, "rows"))
        await until(
            lambda: (
                sum(event.status == "Skipped" for event in history(location.store, "rows"))
                > skipped_before + 2
            )
        )
        await location.dispatcher.stop(grace=60)
        done = runs(location.store, "rows")
        rows = [run.trigger["outputs"]["body"]["id"] for run in done]
        assert {run.status for run in done} == {"Succeeded"}
        await location.stop()
        return rows

    try:
        processed = asyncio.run(scenario())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert sorted(processed) == [1, 2, 3, 4, 5]
