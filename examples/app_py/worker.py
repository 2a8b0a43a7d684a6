"""A small job queue instrumented with USDT probes (see jobs.d and README.md).

Usage: python worker.py [JOBS] [WORKERS] [DELAY_MS]
Submits JOBS jobs of a few kinds to WORKERS threads, DELAY_MS apart, and waits for them.
The probes come from `usdtgen python jobs.d -o jobs_probes.py`.
"""
from __future__ import annotations

import collections
import queue
import random
import sys
import threading
import time

import jobs_probes as probes

KINDS = ("resize", "thumbnail", "transcode", "checksum")


def work(kind: str, rng: random.Random) -> int:
    """Pretend to do the job; a few fail."""
    time.sleep(rng.uniform(0.0005, 0.003) * (1 + KINDS.index(kind)))
    return 1 if rng.random() < 0.05 else 0


def worker(jobs: queue.Queue, done: collections.Counter, lock: threading.Lock, seed: int) -> None:
    rng = random.Random(seed)
    while True:
        item = jobs.get()
        if item is None:
            return
        job_id, kind, submitted = item
        started = time.monotonic_ns()
        probes.job__start(job_id, kind, (started - submitted) // 1000)
        status = work(kind, rng)
        probes.job__done(job_id, kind, status, (time.monotonic_ns() - started) // 1000)
        with lock:
            done[status] += 1


def main(argv: list[str]) -> int:
    count = int(argv[1]) if len(argv) > 1 else 40
    workers = int(argv[2]) if len(argv) > 2 else 4
    delay = float(argv[3]) / 1000 if len(argv) > 3 else 0.0
    jobs: queue.Queue = queue.Queue()
    done: collections.Counter = collections.Counter()
    lock = threading.Lock()
    threads = [threading.Thread(target=worker, args=(jobs, done, lock, i)) for i in range(workers)]
    for thread in threads:
        thread.start()
    rng = random.Random(0)
    waiting: collections.Counter = collections.Counter()
    for job_id in range(1, count + 1):
        kind = rng.choice(KINDS)
        waiting[kind] += 1
        probes.job__submit(job_id, kind)
        jobs.put((job_id, kind, time.monotonic_ns()))
        if probes.queue__depth.enabled:          # only computed while someone traces
            busiest = waiting.most_common(1)[0][0]
            probes.queue__depth(jobs.qsize(), busiest)
        if delay:
            time.sleep(delay)
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    print(f"{count} jobs, {done[0]} done, {done[1]} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
