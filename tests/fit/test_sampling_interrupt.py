"""Ctrl-C while nutpie runs: caught as a flag, never lost inside native code."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from nkest.fit.sampling import _interrupt_flag


def test_ctrl_c_during_sampling_raises_a_flag_and_the_handler_comes_back():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set in the main thread")
    before = signal.getsignal(signal.SIGINT)
    with _interrupt_flag() as interrupted:
        assert not interrupted.is_set()
        os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt here: a flag instead
        for _ in range(100):
            if interrupted.is_set():
                break
        assert interrupted.is_set()
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_the_flag_never_rises():
    seen = []

    def run():
        with _interrupt_flag() as interrupted:
            seen.append(interrupted.is_set())

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert seen == [False]
