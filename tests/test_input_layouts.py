"""The same values give the same results, bitwise, whatever holds them."""

import numpy as np
import pandas as pd
import pytest
import torch

from mim_sklearn import MIMEncoder

from .conftest import SMALL


def layouts(X, tmp_path):
    """The same float64 values in every container and memory layout we accept."""
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    path = tmp_path / "rows.dat"
    stored = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    stored[:] = X
    stored.flush()
    return {
        "C order": np.ascontiguousarray(X),
        "Fortran order": np.asfortranarray(X),
        "strided slice": wide[:, ::2],
        "DataFrame": pd.DataFrame(X),
        "read-only memmap": np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape),
    }


@pytest.fixture
def values(digits):
    return digits[0][:120]


def test_the_layouts_hold_the_same_values_in_different_layouts(values, tmp_path):
    # The test below means something only if the layouts really differ.
    arrays = layouts(values, tmp_path)
    assert arrays["Fortran order"].flags.f_contiguous
    assert not arrays["Fortran order"].flags.c_contiguous
    assert not arrays["strided slice"].flags.c_contiguous
    assert not arrays["read-only memmap"].flags.writeable
    for array in arrays.values():
        np.testing.assert_array_equal(np.asarray(array), values)


@pytest.mark.parametrize("layout", ["Fortran order", "strided slice", "DataFrame",
                                    "read-only memmap"])
def test_inference_is_bitwise_equal_in_every_layout(estimator_class, values, layout,
                                                    tmp_path):
    est = estimator_class(**SMALL).fit(values)
    reference = np.ascontiguousarray(values)
    given = layouts(values, tmp_path)[layout]
    np.testing.assert_array_equal(est.transform(given), est.transform(reference))
    np.testing.assert_array_equal(est.score_samples(given),
                                  est.score_samples(reference))
    codes = est.transform(reference)
    np.testing.assert_array_equal(est.inverse_transform(np.asfortranarray(codes)),
                                  est.inverse_transform(codes))


@pytest.mark.parametrize("layout", ["Fortran order", "strided slice", "DataFrame",
                                    "read-only memmap"])
def test_fits_on_any_layout_give_identical_weights(values, layout, tmp_path):
    # scaling named: "auto" treats a DataFrame's columns as separate variables.
    reference = MIMEncoder(**SMALL, scaling="global").fit(np.ascontiguousarray(values))
    given = layouts(values, tmp_path)[layout]
    fitted = MIMEncoder(**SMALL, scaling="global").fit(given)
    for (name, expected), (_, got) in zip(reference.model_.state_dict().items(),
                                          fitted.model_.state_dict().items()):
        assert torch.equal(got, expected), name

