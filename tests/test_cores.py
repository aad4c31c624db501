"""Cores and torch threads: free cores from /proc/loadavg's running count, and thread counts that stay per thread."""
from __future__ import annotations

import threading

import pytest

from ragft.cores import busy_elsewhere, free_cores, torch_threads, usable_cores


def test_busy_elsewhere_is_the_running_count_minus_the_reader():
    assert busy_elsewhere("0.10 0.20 0.30 1/180 4242\n") == 0
    assert busy_elsewhere("9.50 8.00 7.00 4/180 4242\n") == 3
    # The 1-minute average (which counts this process's own recent work) does not count by itself.
    assert busy_elsewhere("3.00 2.00 1.00 1/180 4242\n") == 0
    assert busy_elsewhere("garbage") == 0


def test_this_process_s_own_running_threads_do_not_count_as_busy_elsewhere():
    # torch's OpenMP workers spin after an op: 3 running system-wide, 2 of them ours, so 1 core busy elsewhere.
    assert busy_elsewhere("0.10 0.20 0.30 3/180 4242\n", own=2) == 1
    assert busy_elsewhere("0.10 0.20 0.30 2/180 4242\n", own=2) == 0


def test_own_running_threads_sees_a_second_thread_that_keeps_a_core_busy():
    import hashlib

    from ragft.cores import own_running_threads

    stop, spinning, data = threading.Event(), threading.Event(), bytes(1 << 20)

    def spin():     # hashing releases the GIL: this thread runs beside the reading one, as an OpenMP worker does
        spinning.set()
        while not stop.is_set():
            hashlib.sha256(data).digest()

    assert own_running_threads() >= 1
    worker = threading.Thread(target=spin)
    worker.start()
    spinning.wait(5)
    try:
        seen = max(own_running_threads() for _ in range(50))
    finally:
        stop.set()
        worker.join(5)
    assert seen >= 2


def test_free_cores_leaves_out_the_busy_ones_and_never_drops_below_one(monkeypatch):
    monkeypatch.setattr("ragft.cores.usable_cores", lambda: 2)
    assert free_cores("0.1 0.1 0.1 1/100 1") == 2
    assert free_cores("1.0 1.0 1.0 2/100 1") == 1
    assert free_cores("12 12 12 13/100 1") == 1


def test_usable_cores_follows_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert usable_cores() == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert usable_cores() >= 1


def test_a_threads_block_in_one_thread_leaves_another_threads_count_alone():
    """What makes concurrent server requests safe: torch's intra-op count is per OS thread (OpenMP/MKL), so a
    generation that runs on 1 thread does not change the count of a thread already embedding on 2."""
    torch = pytest.importorskip("torch")
    if torch.get_num_threads() < 2:
        torch.set_num_threads(2)
    inside, started, other_seen, release = [], threading.Event(), [], threading.Event()

    def other():
        torch.get_num_threads()          # first torch call: this thread takes the default now (2)
        started.set()
        release.wait(5)
        other_seen.append(torch.get_num_threads())

    def generation():
        with torch_threads(torch, 1):
            inside.append(torch.get_num_threads())
            release.set()
            worker.join(5)
        inside.append(torch.get_num_threads())

    worker = threading.Thread(target=other)
    worker.start()
    started.wait(5)
    runner = threading.Thread(target=generation)
    runner.start()
    runner.join(10)
    assert inside == [1, 2]
    assert other_seen == [2]
    assert torch.get_num_threads() == 2
