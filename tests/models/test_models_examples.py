"""The examples in every model class's documentation run, at the documented shapes.

They build the documented (large) models on the ``meta`` device: shapes propagate,
no memory is allocated and nothing is computed.
"""

from __future__ import annotations

import doctest

import torch

import specdsl
import specdsl.models as models
from specdsl.models.catalog import MODULES, model_class


def run_examples(obj: object, name: str) -> doctest.TestResults:
    globs = {"torch": torch, "specdsl": specdsl, **{n: getattr(models, n) for n in MODULES}}
    test = doctest.DocTestParser().get_doctest(obj.__doc__ or "", globs, name, None, 0)
    assert test.examples, f"{name} documents no example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    with torch.device("meta"):
        results = runner.run(test, out=report.append)
    assert results.failed == 0, "".join(report)
    return results


def test_class_examples_run(model_name):
    results = run_examples(model_class(model_name), model_name)
    assert results.attempted >= 2


def test_spec_for_example_runs():
    run_examples(models.SpecModel.spec_for, "SpecModel.spec_for")
