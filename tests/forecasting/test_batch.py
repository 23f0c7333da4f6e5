import logging

import numpy as np
import pandas as pd
import pytest

from forecasting import forecast, forecast_many

from .helpers import PATTERN, CrashInWorker, monthly


def _histories(rng, n):
    return {f"p{i}": monthly(np.tile(PATTERN, 4) * (1 + rng.normal(0, 0.05, 48))) for i in range(n)}


def test_a_failing_series_does_not_stop_the_others(rng):
    histories = _histories(rng, 3)
    histories["bad"] = pd.Series([1.0, 2.0])  # not indexed by month
    histories["worse"] = "not a series"
    calls = []
    out = forecast_many(histories, workers=1,
                        progress=lambda done, total: calls.append((done, total)))
    assert list(out) == list(histories)
    assert [out[k].status for k in ("p0", "p1", "p2")] == ["ok"] * 3
    assert out["bad"].status == "error" and "TypeError" in out["bad"].reason
    assert out["worse"].status == "error" and len(out["worse"].mean) == 0
    assert calls[-1] == (5, 5)


@pytest.mark.slow
def test_parallel_results_match_serial_ones(rng):
    histories = _histories(rng, 6)
    histories["bad"] = "not a series"
    calls = []
    parallel = forecast_many(histories, workers=2, chunksize=2,
                             progress=lambda done, total: calls.append((done, total)))
    for key in ("p0", "p5"):
        expected = forecast(histories[key])
        np.testing.assert_allclose(parallel[key].mean.to_numpy(), expected.mean.to_numpy())
        np.testing.assert_allclose(parallel[key].upper[95].to_numpy(), expected.upper[95])
    assert parallel["bad"].status == "error"
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (7, 7)


def test_options_reach_every_forecast(rng):
    out = forecast_many(_histories(rng, 2), horizon=6, level=(90,), workers=1, backtest=False)
    for fc in out.values():
        assert len(fc.mean) == 6 and fc.level == (90,) and fc.backtest is None


def test_one_worker_runs_in_this_process(monkeypatch, rng):
    import forecasting._batch as batch

    def no_pool(*args, **kwargs):
        raise AssertionError("workers=1 must not start processes")

    monkeypatch.setattr(batch, "ProcessPoolExecutor", no_pool)
    out = forecast_many(_histories(rng, 2), workers=1)
    assert [fc.status for fc in out.values()] == ["ok", "ok"]


@pytest.mark.slow
def test_a_crashed_worker_process_reruns_pending_chunks_here(rng, caplog):
    histories = _histories(rng, 4)
    crash = CrashInWorker("boom")
    histories[crash] = histories["p0"]
    with caplog.at_level(logging.WARNING, logger="forecasting"):
        out = forecast_many(histories, workers=2, chunksize=1)
    assert list(out) == list(histories)
    assert all(fc.status == "ok" for fc in out.values())
    np.testing.assert_allclose(out[crash].mean.to_numpy(), out["p0"].mean.to_numpy())
    assert "worker process died" in caplog.text


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_progress_callback_does_not_abort_the_run(workers, rng, caplog):
    calls = []

    def broken_progress(done, total):
        calls.append(done)
        raise RuntimeError("progress bar is gone")

    histories = _histories(rng, 4)
    with caplog.at_level(logging.ERROR, logger="forecasting"):
        out = forecast_many(histories, workers=workers, chunksize=1, progress=broken_progress)
    assert [fc.status for fc in out.values()] == ["ok"] * 4
    assert sorted(calls) == [1, 2, 3, 4]  # still called after it failed
    assert "progress callback raised" in caplog.text and "progress bar is gone" in caplog.text


def test_workers_none_uses_the_cpus_this_process_may_run_on(monkeypatch, rng):
    import forecasting._batch as batch

    def no_pool(*args, **kwargs):
        raise AssertionError("one allowed CPU must not start processes")

    monkeypatch.setattr(batch.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(batch, "ProcessPoolExecutor", no_pool)
    out = forecast_many(_histories(rng, 2), workers=None)
    assert [fc.status for fc in out.values()] == ["ok", "ok"]
    assert batch.available_cpus() == 1


def test_bad_options_raise_before_any_work(rng):
    histories = _histories(rng, 2)
    with pytest.raises(TypeError, match="horizon must be an int"):
        forecast_many(histories, horizon=12.0, workers=1)
    with pytest.raises(ValueError, match="percentage"):
        forecast_many(histories, level=0.8, workers=1)
    with pytest.raises(ValueError, match="workers"):
        forecast_many(histories, workers=0)


def test_every_status_is_one_of_the_four_documented_ones(rng):
    from forecasting import Forecast

    documented = ("ok", "fallback", "insufficient_history", "error")
    for status in documented:
        assert f'``"{status}"``' in Forecast.__doc__
    histories = {
        "full": monthly(np.tile(PATTERN, 4) * (1 + rng.normal(0, 0.05, 48))),
        "short": monthly(PATTERN * (1 + rng.normal(0, 0.05, 12))),
        "new": monthly([10.0, 20.0, 30.0]),
        "broken": "not a series",
    }
    out = forecast_many(histories, workers=1)
    assert {k: out[k].status for k in histories} == {
        "full": "ok", "short": "fallback", "new": "insufficient_history", "broken": "error"}
    broken = out["broken"]
    assert (broken.model, broken.lower, broken.upper, broken.backtest) == ("none", {}, {}, None)
    assert broken.reason.startswith("TypeError: ")
