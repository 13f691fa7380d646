"""A fit's draws depend only on its reports, options and seed.

Not on earlier fits or other work in the same process, nor on whether the
compile caches are cold or warm, nor on the number of cores. The cause of the
old flakiness was PyTensor's fast-math numba kernels, which round differently
when compiled cold and when loaded from the disk cache (``nkest/fit/compiling.py``).
"""

from __future__ import annotations

import hashlib
import textwrap
import warnings

import numpy as np
import pytensor
import pytest

import nkest
from nkest.fit import clear_cache
from nkest.fit.prior import sample_prior
from nkest.validate import simulate_conflict

QUICK = {"draws": 100, "tune": 100, "chains": 2, "progressbar": False}


def _digest(estimate) -> str:
    """Hash every posterior array, bit for bit."""
    posterior = estimate.posterior["posterior"]
    digest = hashlib.sha256()
    for name in sorted(posterior.data_vars):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(posterior[name].to_numpy()).tobytes())
    return digest.hexdigest()


def _simulated_fit(seed: int = 3, **options):
    sim = simulate_conflict(seed, days=150, n_reports=30)
    end = sim.daily.index[-1].date().isoformat()
    return nkest.fit(sim.reports, end=end, random_seed=seed, **{**QUICK, **options})


_SCRIPT = textwrap.dedent(
    """
    import hashlib, json, sys
    import numpy as np
    import nkest
    from nkest.validate import simulate_conflict

    sim = simulate_conflict(3, days=150, n_reports=30)
    end = sim.daily.index[-1].date().isoformat()
    estimate = nkest.fit(
        sim.reports, end=end, random_seed=3, draws=100, tune=100, chains=2, progressbar=False
    )
    posterior = estimate.posterior["posterior"]
    digest = hashlib.sha256()
    for name in sorted(posterior.data_vars):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(posterior[name].to_numpy()).tobytes())
    print(json.dumps({"digest": digest.hexdigest()}))
    """
)


def test_fresh_processes_with_cold_and_warm_caches_give_the_draws_of_this_process(
    tmp_path, fresh_process
):
    cold = fresh_process(_SCRIPT, tmp_path)["digest"]
    assert any((tmp_path / "pytensor").rglob("*.nbi")), "the first process left no cache"
    warm = fresh_process(_SCRIPT, tmp_path)["digest"]
    here = _digest(_simulated_fit())
    assert cold == warm == here


def test_a_refit_gives_identical_draws_after_everything_that_could_touch_global_state(tmp_path):
    flags_before = {name: getattr(pytensor.config, name) for name in ("numba__fastmath", "mode")}
    first = _simulated_fit()
    reference = _digest(first)

    # Other fits: other identification assumptions, priors, options, grid and sampler.
    _simulated_fit(identification={"reference": ["S1"]})
    _simulated_fit(identification={"group_priors": {"G2": (1.5, 0.2)}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # short windows on a two-week grid
        _simulated_fit(priors={"noise": (0.2, 0.5)}, outlier_share=0.1, freq="2W")
    _simulated_fit(seed=4)
    _simulated_fit(sampler="pymc", draws=50, tune=50)
    sample_prior(first.reports, draws=20, random_seed=1)

    # Everything users do with a fit: tables, sentences, checks, plots, report, files.
    first.summary(dates="all")
    first.source_bias()
    first.wounded_ratio()
    first.cite("killed", allow_failed_diagnostics=True)
    first.report_checks()
    first.report(tmp_path / "report")
    first.save(tmp_path / "fit.nc")
    nkest.load(tmp_path / "fit.nc").summary()

    # Validation helpers.
    from nkest.validate.predictive import loo_checks, source_conflicts
    from nkest.validate.sbc import run_sbc, sbc_template

    source_conflicts(loo_checks(first))
    run_sbc(
        1,
        template=sbc_template(days=100, n_reports=12),
        draws=50,
        tune=50,
        thin_to=10,
        max_workers=1,
    )

    assert _digest(_simulated_fit()) == reference
    clear_cache()
    assert _digest(_simulated_fit()) == reference, "a fresh compile in this process differs"
    flags_after = {name: getattr(pytensor.config, name) for name in flags_before}
    assert flags_after == flags_before, "nkest left PyTensor's global settings changed"


def test_the_number_of_cores_does_not_change_the_draws():
    assert _digest(_simulated_fit(cores=1)) == _digest(_simulated_fit(cores=2))


@pytest.mark.parametrize("user_fastmath", [True, False])
def test_a_users_own_pytensor_settings_do_not_change_the_draws(user_fastmath):
    """nkest compiles under its own settings whatever the user set globally."""
    clear_cache()
    with pytensor.config.change_flags(numba__fastmath=user_fastmath):
        inside = _digest(_simulated_fit())
        assert pytensor.config.numba__fastmath is user_fastmath
    clear_cache()
    assert inside == _digest(_simulated_fit())
