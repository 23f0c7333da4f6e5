"""Forecast many partners in parallel processes."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ._core import forecast
from ._intervals import normalize_levels
from ._prepare import check_horizon
from ._result import Forecast

__all__ = ["forecast_many", "available_cpus"]

logger = logging.getLogger("forecasting")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _failed(exc: BaseException) -> Forecast:
    empty = pd.Series([], dtype=float, name="mean")
    return Forecast(mean=empty, lower={}, upper={}, model="none", status="error",
                    reason=f"{type(exc).__name__}: {exc}", backtest=None, warnings=())


#: Thread pools of numerical libraries; one thread per worker process is fastest
#: (measured: 2 workers were 4x slower with the default BLAS threads).
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS")


@contextmanager
def _single_threaded_children():
    """Make worker processes (which inherit the environment) single-threaded.

    Only variables the caller has not set are touched, and only while the
    workers are being started.
    """
    added = [name for name in _THREAD_VARS if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _run_chunk(items: list, options: dict) -> list:
    out = []
    for key, history in items:
        try:
            out.append((key, forecast(history, **options)))
        except Exception as exc:  # noqa: BLE001 - one bad series must not stop the rest
            out.append((key, _failed(exc)))
    return out


def forecast_many(
    histories: Mapping[Hashable, pd.Series],
    *,
    horizon: int = 12,
    level=(80, 95),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunksize: int | None = None,
    **options,
) -> dict:
    """Forecast every history of a mapping, in parallel processes.

    Parameters
    ----------
    histories : Mapping
        Key (e.g. partner id) -> monthly sales Series, as for
        :func:`forecasting.forecast`.  Keys must be picklable.
    horizon : int, default 12
        Months to forecast.
    level : sequence of float, default (80, 95)
        Interval levels in percent.
    workers : int, optional
        Processes to use; ``None`` uses every CPU this process may run on
        (``os.sched_getaffinity`` where available, else ``os.cpu_count()``),
        ``1`` runs in this process.
    progress : callable, optional
        Called as ``progress(done, total)`` after each finished chunk.  An
        exception raised by the callback is logged (logger ``"forecasting"``,
        with traceback) and otherwise ignored: it never aborts the run or
        loses results, and the callback keeps being called.
    chunksize : int, optional
        Series per task; by default about four tasks per worker, at most 200.
    **options
        Passed to :func:`forecasting.forecast` (``backtest``, ``end``).

    Returns
    -------
    dict
        Key -> :class:`Forecast`, in the order of ``histories``.  A series
        that raises (e.g. not a Series, or not indexed by month) gets a
        ``Forecast`` with ``status="error"``, empty ``mean`` and the
        exception in ``reason``; the others are unaffected.  If a worker
        process dies (``BrokenProcessPool``), the chunks that had not come
        back are rerun in this process.

    Raises
    ------
    TypeError, ValueError
        For a bad ``horizon``, ``level`` or ``workers`` (checked once, before
        any work starts).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from forecasting import forecast_many
    >>> months = pd.date_range("2020-01-01", periods=48, freq="MS")
    >>> histories = {"acme": pd.Series(np.arange(48.0) + 10, index=months),
    ...              "broken": "not a series"}
    >>> out = forecast_many(histories, workers=1)
    >>> out["acme"].status, out["broken"].status
    ('ok', 'error')
    """
    horizon = check_horizon(horizon)
    normalize_levels(level)
    options = dict(options, horizon=horizon, level=level)
    items = list(histories.items())
    total = len(items)
    if workers is None:
        workers = available_cpus()
    elif isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be None or an int >= 1, got {workers!r}")
    workers = min(int(workers), max(total, 1))
    if chunksize is None:
        chunksize = max(1, min(200, -(-total // (workers * 4)))) if total else 1
    chunks = [items[i: i + chunksize] for i in range(0, total, chunksize)]

    results: dict = {}
    done = 0

    def finished(chunk, out):
        nonlocal done
        results.update(out)
        done += len(chunk)
        if progress is not None:
            try:
                progress(done, total)
            except Exception:  # noqa: BLE001 - a progress bar must not sink the batch
                logger.exception("forecast_many: progress callback raised (ignored)")

    retry = []
    if workers == 1:
        retry = chunks
    else:
        # 'spawn' is safe whatever threads the caller (a web app, pytest) runs.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {}
            with _single_threaded_children():  # processes start on the first submit
                for chunk in chunks:
                    try:
                        futures[pool.submit(_run_chunk, chunk, options)] = chunk
                    except BrokenProcessPool:
                        retry.append(chunk)
            for future in as_completed(futures):
                chunk = futures[future]
                try:
                    out = future.result()
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): every chunk still pending
                    # lands here; rerun them in this process below.
                    retry.append(chunk)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                    out = [(key, _failed(exc)) for key, _ in chunk]
                finished(chunk, out)
        if retry:
            logger.warning("forecast_many: a worker process died; rerunning %d chunk(s) in "
                           "this process", len(retry))
    for chunk in retry:
        finished(chunk, _run_chunk(chunk, options))
    return {key: results[key] for key, _ in items}
