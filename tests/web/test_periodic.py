"""The periodic-job runner: each job's work runs in a thread, again and again; one job failing neither stops
it nor the others; leaving the app's lifespan stops them all."""

from __future__ import annotations

import asyncio
import threading

from support import run_on_own_loop as _run

from portal.web import periodic


async def _until(condition, *, limit: float = 10.0) -> None:
    """Wait for a condition (bounded, so a broken runner fails the test instead of hanging it)."""
    for _ in range(int(limit / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition was never met")


def test_jobs_run_repeatedly_in_threads_and_a_failing_one_stops_neither_itself_nor_the_others() -> None:
    runs = {"good": 0, "bad": 0}
    threads: set[int] = set()
    loop_thread: set[int] = set()

    def good() -> None:
        threads.add(threading.get_ident())
        runs["good"] += 1

    def bad() -> None:
        runs["bad"] += 1
        raise RuntimeError("a job that always fails")

    async def scenario() -> None:
        loop_thread.add(threading.get_ident())
        jobs = [periodic.Job("good", 0.01, good), periodic.Job("bad", 0.01, bad, error_pause=0.01)]
        async with periodic.running(jobs):
            await _until(lambda: runs["good"] >= 3 and runs["bad"] >= 3)

    _run(scenario)
    assert runs["good"] >= 3 and runs["bad"] >= 3
    assert threads and not (threads & loop_thread)


def test_leaving_the_lifespan_stops_every_job() -> None:
    runs = {"n": 0}

    def job() -> None:
        runs["n"] += 1

    async def scenario() -> int:
        async with periodic.running([periodic.Job("counting", 0.01, job)]):
            await _until(lambda: runs["n"] >= 2)
        stopped_at = runs["n"]
        for _ in range(20):
            await asyncio.sleep(0.01)
        return stopped_at

    stopped_at = _run(scenario)
    assert runs["n"] == stopped_at


def test_a_job_waits_its_interval_between_runs() -> None:
    runs = {"often": 0, "rarely": 0}

    async def scenario() -> None:
        jobs = [
            periodic.Job("often", 0.01, lambda: runs.__setitem__("often", runs["often"] + 1)),
            periodic.Job("rarely", 3600, lambda: runs.__setitem__("rarely", runs["rarely"] + 1)),
        ]
        async with periodic.running(jobs):
            await _until(lambda: runs["often"] >= 5)

    _run(scenario)
    assert runs["rarely"] == 1
