"""Options are checked where they are made, and every refusal is one of nkest's errors."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import nkest
from nkest.model.design import make_design
from nkest.model.options import FitOptions, make_options


@pytest.mark.parametrize(
    "make",
    [
        lambda: FitOptions(outlier_share=0.9),
        lambda: dataclasses.replace(FitOptions(), target_accept=3),
        lambda: make_options(freq="fortnightly"),
        lambda: FitOptions(outlier_scale=float("nan")),
        lambda: FitOptions(cores=0),
        lambda: FitOptions(sampler="stan"),
        lambda: FitOptions(identification="groups"),  # the plain form is make_options's job
    ],
    ids=["constructor", "replace", "freq", "nan", "cores", "sampler", "unparsed"],
)
def test_a_bad_option_is_refused_however_the_options_are_made(make):
    with pytest.raises(nkest.OptionError):
        make()


def test_an_unknown_option_is_both_an_option_error_and_a_type_error():
    with pytest.raises(nkest.UnknownOptionError, match="valid: end, freq") as refused:
        make_options(outlier_shares=0.1)
    assert isinstance(refused.value, TypeError)
    assert isinstance(refused.value, ValueError)  # code catching ValueError keeps working


def test_reports_that_leave_nothing_to_estimate_raise_a_design_error():
    frame = pd.DataFrame(
        {
            "published": ["2025-01-02"],
            "source": ["A"],
            "quantity": ["killed"],
            "value": ["10"],
            "exclude": ["doubtful"],
        }
    )
    with pytest.raises(nkest.DesignError, match="no usable reports") as refused:
        make_design(nkest.load_reports(frame), make_options())
    assert isinstance(refused.value, ValueError)


def test_the_command_line_reads_the_librarys_defaults():
    from nkest.cli import _parser

    args = _parser().parse_args(["report", "--dataset", "dprk", "--out", "x"])
    defaults = FitOptions()
    assert args.freq == defaults.freq
    assert args.sampler == defaults.sampler
    assert make_options(identification=args.identification) == make_options()
