"""nutpie's callbacks are compiled once per machine and sample exactly as nutpie's own."""

from __future__ import annotations

import textwrap

import numpy as np
import pytensor
import pytest

from nkest.fit.callbacks import compile_nutpie_model
from nkest.fit.compiling import reproducible_compilation
from nkest.model.build import build_model, model_data
from nkest.model.design import make_design
from nkest.model.options import make_options
from nkest.validate import simulate_conflict

nutpie = pytest.importorskip("nutpie")


def _designs(seed: int = 3):
    """A simulated conflict's design, and the same conflict's with one report left out."""
    sim = simulate_conflict(seed, days=150, n_reports=30)
    options = make_options(end=sim.daily.index[-1].date().isoformat())
    last = sim.reports.to_frame()["report_id"].iloc[-1]
    fewer = sim.reports.exclude([last], "left out for the test")
    return make_design(sim.reports, options), make_design(fewer, options), options


def _model(seed: int = 3):
    design, _, options = _designs(seed)
    return build_model(design, options)


def _draws(compiled, seed: int = 5) -> np.ndarray:
    trace = nutpie.sample(
        compiled, draws=30, tune=30, chains=2, cores=1, seed=seed, progress_bar=False
    )
    posterior = trace.posterior
    return np.concatenate([posterior[name].to_numpy().ravel() for name in sorted(posterior)])


def test_the_callbacks_sample_exactly_as_nutpies_own():
    model = _model()
    with reproducible_compilation():
        ours = compile_nutpie_model(model)
        theirs = nutpie.compile_pymc_model(model)
    assert type(ours) is type(theirs)
    assert ours.n_dim == theirs.n_dim
    assert ours.shapes == theirs.shapes
    np.testing.assert_array_equal(_draws(ours), _draws(theirs))


def test_new_data_reach_the_callbacks_as_they_reach_nutpies_own():
    """with_data swaps the arrays the callbacks read: nutpie's draws, and not the old data's."""
    design, fewer, options = _designs()
    model = build_model(design, options)
    with reproducible_compilation():
        ours = compile_nutpie_model(model)
        theirs = nutpie.compile_pymc_model(model)
    known = {var.name for var in ours.shared_var_keys}
    update = {name: value for name, value in model_data(fewer.arrays).items() if name in known}
    assert update, "the model reads no data"
    before = _draws(ours)
    swapped = _draws(ours.with_data(**update))
    np.testing.assert_array_equal(swapped, _draws(theirs.with_data(**update)))
    assert not np.array_equal(before, swapped)


_SCRIPT = textwrap.dedent(
    """
    import json
    import logging
    import numpy as np
    from nkest.fit.callbacks import compile_nutpie_model
    from nkest.fit.compiling import reproducible_compilation
    from nkest.model.build import build_model
    from nkest.model.design import make_design
    from nkest.model.options import make_options
    from nkest.validate import simulate_conflict

    sim = simulate_conflict(3, days=150, n_reports=30)
    options = make_options(end=sim.daily.index[-1].date().isoformat())
    model = build_model(make_design(sim.reports, options), options)
    warnings = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())
    logging.getLogger("nkest").addHandler(handler)
    with reproducible_compilation():
        compiled = compile_nutpie_model(model)
    print(json.dumps({
        "logp": compiled.compiled_logp_func.cache_hits,
        "expand": compiled.compiled_expand_func.cache_hits,
        "warnings": warnings,
    }))
    """
)


def test_a_second_process_loads_the_callbacks_from_disk_and_a_bad_entry_is_rebuilt(
    tmp_path, fresh_process
):
    assert fresh_process(_SCRIPT, tmp_path) == {"logp": 0, "expand": 0, "warnings": []}
    assert sorted(path.name.split("-")[0] for path in tmp_path.rglob("*callback*.nbi")) == [
        "string.expand_callback",
        "string.logp_callback",
    ]
    assert fresh_process(_SCRIPT, tmp_path) == {"logp": 1, "expand": 1, "warnings": []}

    (entry,) = tmp_path.rglob("string.logp_callback*.nbc")
    entry.write_bytes(b"not what numba wrote")
    damaged = fresh_process(_SCRIPT, tmp_path)
    assert (damaged["logp"], damaged["expand"]) == (0, 1)
    assert len(damaged["warnings"]) == 1
    assert "could not load the cached logp_callback" in damaged["warnings"][0]
    assert fresh_process(_SCRIPT, tmp_path) == {"logp": 1, "expand": 1, "warnings": []}


def test_when_the_cached_path_fails_the_model_compiles_nutpies_way(monkeypatch, caplog):
    from nkest.fit import callbacks

    def unreadable(*args):
        raise ValueError("a record nkest cannot read")

    monkeypatch.setattr(callbacks, "_record_layout", unreadable)
    with reproducible_compilation(), caplog.at_level("WARNING", logger="nkest"):
        compiled = compile_nutpie_model(_model())
    assert "logp_numba" in compiled.compiled_logp_func.__name__
    assert "not cached (a record nkest cannot read)" in caplog.text
    monkeypatch.undo()
    with reproducible_compilation():
        np.testing.assert_array_equal(_draws(compiled), _draws(compile_nutpie_model(_model())))


def test_without_pytensors_cache_the_model_compiles_nutpies_way():
    model = _model()
    with reproducible_compilation(), pytensor.config.change_flags(numba__cache=False):
        compiled = compile_nutpie_model(model)
    assert "logp_numba" in compiled.compiled_logp_func.__name__
    with reproducible_compilation():
        np.testing.assert_array_equal(_draws(compiled), _draws(compile_nutpie_model(model)))
