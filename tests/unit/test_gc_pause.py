"""The collector is paused for bulk work and left as it was found."""

from __future__ import annotations

import gc

import pytest

from backoffice.gc_pause import paused_gc


def test_paused_inside_and_running_again_after_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # an overlapping job does not start it again when it ends first
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("the import failed")
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
