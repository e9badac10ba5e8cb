"""BLAS's thread limits: nested and overlapping from several threads, every limit holds BLAS to its count, and the
last to end puts back the counts found before the first."""

import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import threadpoolctl

from bayeslogit.numerics import blas_threads as module
from bayeslogit.numerics.blas_threads import blas_threads, one_blas_thread

N_THREADS = 3  # the count every BLAS library is set to for a test: neither one nor a small machine's core count


def blas_pools() -> dict:
    """Each BLAS library's path -> its thread count, as threadpoolctl reads them."""
    return {
        pool["filepath"]: pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"
    }


def set_blas_threads(counts: dict) -> None:
    """Set the BLAS libraries of ``counts`` (path -> thread count), then free OpenBLAS's control for other threads."""
    for library in threadpoolctl.ThreadpoolController().lib_controllers:
        if library.filepath in counts:
            library.set_num_threads(counts[library.filepath])
    threadpoolctl.OpenBLASController.clear_controlling_thread()


@pytest.fixture
def before():
    """Every BLAS library at ``N_THREADS`` threads for the test (so that a limit of one, or two, is seen whatever
    the machine's count), and back to the machine's count after it."""
    machine = blas_pools()
    if not machine:
        pytest.skip("no BLAS library is loaded")
    assert not module._ACTIVE and not module._SAVED
    set_blas_threads(dict.fromkeys(machine, N_THREADS))
    try:
        if set(blas_pools().values()) != {N_THREADS}:
            pytest.skip(f"BLAS does not run on {N_THREADS} threads here")
        yield blas_pools()
        assert not module._ACTIVE and not module._SAVED
    finally:
        set_blas_threads(machine)


class Worker:
    """A thread that runs the callables it is handed, one at a time, and hands back each one's result."""

    def __init__(self):
        self.tasks, self.results = queue.Queue(), queue.Queue()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while (task := self.tasks.get()) is not None:
            try:
                self.results.put((task(), None))
            except BaseException as error:  # handed back to the test's thread
                self.results.put((None, error))

    def run(self, task):
        self.tasks.put(task)
        result, error = self.results.get(timeout=60)
        if error is not None:
            raise error
        return result

    def stop(self):
        self.tasks.put(None)
        self.thread.join(timeout=60)


@pytest.mark.parametrize("first_out", ["A", "B"])
def test_limits_overlapping_from_two_threads_put_the_counts_back(before, first_out):
    """A enters, B enters, one leaves, the other leaves: BLAS is at one thread throughout, and at the original count
    after (threadpoolctl's limits alone leave it at one when A leaves first, since B saved A's one)."""
    workers = {"A": Worker(), "B": Worker()}
    contexts = {name: blas_threads(1) for name in workers}
    try:
        for name in ("A", "B"):
            workers[name].run(contexts[name].__enter__)
            assert set(blas_pools().values()) == {1}
        last_out = "B" if first_out == "A" else "A"
        workers[first_out].run(lambda: contexts[first_out].__exit__(None, None, None))
        assert set(blas_pools().values()) == {1}
        workers[last_out].run(lambda: contexts[last_out].__exit__(None, None, None))
        assert blas_pools() == before
    finally:
        for worker in workers.values():
            worker.stop()


def test_limits_overlapping_from_threads_meeting_at_a_barrier_put_the_counts_back(before):
    """Threads enter together, each reads one BLAS thread while all are inside, and they leave together."""
    n_threads, seen = 4, []
    barrier = threading.Barrier(n_threads, timeout=60)

    def limited():
        with one_blas_thread(2**20):
            barrier.wait()
            seen.append(set(blas_pools().values()))
            barrier.wait()

    threads = [threading.Thread(target=limited) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == [{1}] * n_threads
    assert blas_pools() == before


def test_limits_from_many_threads_at_random_hold_one_thread_and_put_the_counts_back(before):
    """Threads enter and leave limits, nested or not, in whatever order the scheduler makes: inside any of them
    BLAS is at one thread, and after the last the counts are the original ones."""
    seen, start = set(), threading.Barrier(4, timeout=60)

    def limited():
        start.wait()
        for i in range(25):
            with blas_threads(1):
                seen.update(blas_pools().values())
                if i % 3 == 0:
                    with one_blas_thread(2**20):
                        seen.update(blas_pools().values())

    threads = [threading.Thread(target=limited) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert seen == {1}
    assert blas_pools() == before


def test_nested_limits_put_the_counts_back(before):
    with blas_threads(1):
        assert set(blas_pools().values()) == {1}
        with one_blas_thread(2**20), blas_threads(1):
            assert set(blas_pools().values()) == {1}
        assert set(blas_pools().values()) == {1}
        with blas_threads(None), one_blas_thread(10):
            assert set(blas_pools().values()) == {1}
    assert blas_pools() == before


def test_blas_runs_on_the_least_active_limit(before):
    """A limit of one inside (or overlapping) a limit of two holds BLAS to one; when it ends BLAS is back at two."""
    other = Worker()
    inner = blas_threads(1)
    try:
        with blas_threads(2):
            assert set(blas_pools().values()) == {2}
            other.run(inner.__enter__)
            assert set(blas_pools().values()) == {1}
            with blas_threads(2):
                assert set(blas_pools().values()) == {1}
            other.run(lambda: inner.__exit__(None, None, None))
            assert set(blas_pools().values()) == {2}
        assert blas_pools() == before
    finally:
        other.stop()


def test_a_limit_is_put_back_after_an_error():
    machine = blas_pools()
    with pytest.raises(ZeroDivisionError), blas_threads(1):
        1 / 0
    assert blas_pools() == machine and not module._ACTIVE and not module._SAVED


def test_a_library_loaded_while_a_limit_is_active_is_limited_by_the_next_limit_and_put_back():
    """In a process that loads SciPy's BLAS inside a limit (NumPy's is loaded before): the next limit to enter holds
    it to one thread too, and the last to end puts back both libraries' counts."""
    code = f"""
import importlib.util, sys
import numpy
from threadpoolctl import ThreadpoolController, OpenBLASController, threadpool_info

def pools():
    return {{pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}}

def set_all(n):
    for library in ThreadpoolController().lib_controllers:
        library.set_num_threads(n)
    OpenBLASController.clear_controlling_thread()

spec = importlib.util.spec_from_file_location("blas_threads", {str(Path(module.__file__))!r})
blas_threads = importlib.util.module_from_spec(spec)
spec.loader.exec_module(blas_threads)
set_all({N_THREADS})
with blas_threads.blas_threads(1):
    numpy_only = pools()
    import scipy.linalg
    assert len(pools()) > len(numpy_only), "SciPy's BLAS is NumPy's"
    for library in ThreadpoolController().lib_controllers:
        if library.filepath not in numpy_only:
            library.set_num_threads(2)
    OpenBLASController.clear_controlling_thread()
    with blas_threads.blas_threads(1):
        print(sorted(pools().values()))
print(sorted(pools().values()), sorted(numpy_only.values()))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if "SciPy's BLAS is NumPy's" in run.stderr:
        pytest.skip("SciPy uses NumPy's BLAS here")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[1, 1]", f"[2, {N_THREADS}] [1]"]
