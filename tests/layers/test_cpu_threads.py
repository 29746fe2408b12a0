"""layers/cpu_threads.py: how blocks are dealt to workers and run."""
import os
import signal
import threading
import time

import numpy as np
import pytest

from layers import cpu_threads
from layers.cpu_threads import MAX_DEFAULT_WORKERS, deal, default_workers, run_blocks


@pytest.mark.parametrize("n,workers", [(1, 2), (7, 3), (32, 2), (33, 4)])
def test_deal_hands_out_every_block_once(n, workers):
    hands = deal(list(range(n)), workers)
    assert len(hands) == workers
    assert sorted(b for hand in hands for b in hand) == list(range(n))


def test_deal_balances_causal_work():
    """Causal attention: query block i holds i + 1 tiles.  Dealt back and forth, 32 blocks
    over 2 workers give 264 tiles each (round-robin, 0 2 4 ... / 1 3 5 ..., gives 256/272)."""
    tiles = [sum(i + 1 for i in hand) for hand in deal(list(range(32)), 2)]
    assert tiles == [264, 264]
    tiles = [sum(i + 1 for i in hand) for hand in deal(list(range(30)), 3)]
    assert max(tiles) - min(tiles) <= 10          # within a third of the largest block


def test_run_blocks_runs_the_hands_at_the_same_time_and_returns_them_in_order():
    def work(hand):
        return sum(hand), threading.get_ident()

    assert run_blocks(work, list(range(10)), 1) == [(45, threading.get_ident())]   # right here
    both_running = threading.Barrier(2, timeout=10)   # passes only if the hands run together

    def together(hand):
        both_running.wait()
        return sum(hand)

    assert run_blocks(together, list(range(10)), 2) == [sum(h) for h in deal(list(range(10)), 2)]
    assert run_blocks(work, [5], 4)[0][0] == 5                     # never more workers than blocks


def test_run_blocks_passes_on_a_workers_error():
    def fail(hand):
        if 1 in hand:
            raise ValueError("block 1 failed")
        return hand

    with pytest.raises(ValueError, match="block 1 failed"):
        run_blocks(fail, [0, 1, 2, 3], 2)


def test_default_workers_is_one_for_a_single_block_or_another_backend():
    assert default_workers(np, 1) == 1
    assert default_workers(object(), 8) == 1           # not NumPy: CuPy runs on the GPU
    assert 1 <= default_workers(np, 8) <= 8


def test_default_workers_stays_within_the_cap_on_a_big_machine(monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(cpu_threads, "cpu_count", lambda: 64)
    assert default_workers(np, 1000) == MAX_DEFAULT_WORKERS == 8   # not 64 shares of dQ
    assert default_workers(np, 3) == 3                              # nor more than the blocks


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_pool_of_its_own():
    """After fork the parent's pool threads do not exist in the child: it must not wait on them."""
    for _ in range(3):                                      # the parent's pool exists and
        run_blocks(sum, list(range(8)), 2)                  # counts two idle threads
    time.sleep(0.2)
    pid = os.fork()
    if pid == 0:                                            # child: exit 0 only if it ran
        ok = False
        try:
            ok = run_blocks(sum, list(range(8)), 2) == [sum(h) for h in deal(list(range(8)), 2)]
        finally:
            os._exit(0 if ok else 1)
    for _ in range(150):                                    # up to 15 s, then it hung
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WEXITSTATUS(status) == 0
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child waited forever on its parent's pool")


def test_callers_on_two_threads_take_turns_and_leave_blas_as_it_was():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    results, errors = [], []

    def work(hand):
        time.sleep(0.005)                           # long enough for the callers to overlap
        return sum(hand)

    def caller():
        try:
            for _ in range(20):
                results.append(run_blocks(work, list(range(16)), 2))
        except Exception as error:                  # pragma: no cover - reported below
            errors.append(error)

    # (the test suite runs BLAS on one thread: start from three, so a wrong restore shows)
    with threadpoolctl.threadpool_limits(3, user_api="blas"):
        before = [info["num_threads"] for info in threadpoolctl.threadpool_info()]
        threads = [threading.Thread(target=caller) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        after = [info["num_threads"] for info in threadpoolctl.threadpool_info()]
    assert not errors and len(results) == 60
    assert all(r == [sum(h) for h in deal(list(range(16)), 2)] for r in results)
    assert after == before
