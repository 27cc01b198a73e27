"""The processes the drill starts (`pairflow serve`, `pairflow frontdoor`): spawned with
`python -m`, ready once their first line announces their URL, output kept in a log file, and ended
with SIGTERM (SIGKILL after a while).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pairflow.errors import PairflowError

START_TIMEOUT = 30.0  # seconds a process may take to announce itself


class DrillError(PairflowError):
    """The drill could not be set up or carried out (a process did not start, a deploy failed)."""


@dataclass(slots=True)
class Started:
    """A process the drill started, the URL it announced, and where its output goes."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    log: IO[bytes]
    drain: asyncio.Task[None] | None = None


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment without the caller's PAIRFLOW_* settings, plus the drill's."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PAIRFLOW_")}, **extra}


async def _drain(stream: asyncio.StreamReader, log: IO[bytes]) -> None:
    while line := await stream.readline():
        log.write(line)
        log.flush()


async def spawn(name: str, args: list[str], env: dict[str, str], prefix: str, workdir: Path) -> Started:
    """Start `python -m ARGS`, wait for its first line to start with `prefix`; the last word is its URL."""
    log = (workdir / f"{name}.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *args, stdout=asyncio.subprocess.PIPE, stderr=log, env=env
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)).decode(errors="replace")
    except TimeoutError:
        line = ""
    if not line.startswith(prefix):
        if process.returncode is None:
            process.kill()
        await process.wait()
        log.close()
        tail = (workdir / f"{name}.log").read_text(errors="replace").strip().splitlines()[-5:]
        raise DrillError(f"{name} did not start (first line {line.strip()!r}): {' | '.join(tail)}")
    url = line[len(prefix) :].split()[0].strip()
    started = Started(name, process, url, log)
    started.drain = asyncio.get_running_loop().create_task(_drain(process.stdout, log))
    return started


async def end(started: Started) -> None:
    """SIGTERM (SIGCONT first, in case it is stopped), then SIGKILL after a while."""
    process = started.process
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if started.drain is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await started.drain
    started.log.close()
