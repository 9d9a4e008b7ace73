"""The GC pause around allocation bursts restores the collector exactly as it found it."""

from __future__ import annotations

import gc
import threading

from lineage.graph.gcpause import gc_paused


def test_nested_and_threaded_pauses_restore_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner burst must not resume collection for the outer one"
        inside = threading.Event()
        leave = threading.Event()

        def other_burst() -> None:
            with gc_paused():
                inside.set()
                leave.wait(5)

        worker = threading.Thread(target=other_burst)
        worker.start()
        inside.wait(5)
    assert not gc.isenabled(), "still paused while another thread's burst runs"
    leave.set()
    worker.join(5)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
