"""Categorical data: the likelihood, the score-function estimator, the estimators."""

import numpy as np
import pytest
import torch

from mim_sklearn import load, save
from mim_sklearn.nn.likelihoods import CategoricalLikelihood
from mim_sklearn.objectives import score_function_surrogate

from .conftest import SMALL


@pytest.fixture(scope="module")
def codes():
    # Two features with 3 and 5 categories.
    rng = np.random.default_rng(0)
    columns = [rng.integers(0, 3, 400), rng.integers(0, 5, 400)]
    return np.column_stack(columns).astype(float)


def test_log_prob_is_the_log_softmax_of_each_features_own_categories():
    lik = CategoricalLikelihood(2, n_categories=[2, 3])
    params = torch.randn(4, lik.n_outputs(), generator=torch.Generator().manual_seed(0))
    x = torch.tensor([[0.0, 2.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    logits = params.view(4, 2, 3)
    expected = (torch.log_softmax(logits[:, 0, :2], -1).gather(1, x[:, :1].long())[:, 0]
                + torch.log_softmax(logits[:, 1], -1).gather(1, x[:, 1:].long())[:, 0])
    torch.testing.assert_close(lik.log_prob(x, params), expected)
    probabilities = lik.log_probabilities(params).exp()
    assert probabilities[:, 0, 2].abs().max() == 0  # feature 0 has no category 2
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(4, 2))


def test_encoder_input_is_one_hot_per_feature():
    lik = CategoricalLikelihood(2, n_categories=[2, 3])
    one_hot = lik.encoder_input(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    assert one_hot.tolist() == [[0, 1, 1, 0, 0], [1, 0, 0, 0, 1]]


def test_draws_follow_the_decoded_probabilities():
    lik = CategoricalLikelihood(1, n_categories=[4])
    params = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]])).expand(40_000, 4)
    draws = lik.sample(params, torch.Generator().manual_seed(0))
    frequencies = np.bincount(draws[:, 0].long().numpy(), minlength=4) / 40_000
    # Binomial standard error at n = 40,000 is at most 0.0025.
    np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.3, 0.4], atol=0.01)


def test_score_function_gradient_is_unbiased_on_a_toy_with_an_exact_gradient():
    # E_{x ~ softmax(theta)} f(x) has the exact gradient p * (f - E f).
    theta = torch.tensor([0.3, -0.2, 0.5, 0.0], requires_grad=True)
    f = torch.tensor([1.0, -2.0, 0.5, 3.0])
    p = torch.softmax(theta, 0)
    exact = (p * (f - (p * f).sum())).detach()
    n = 200_000
    x = torch.multinomial(p.detach(), n, replacement=True,
                          generator=torch.Generator().manual_seed(0))
    log_p = torch.log_softmax(theta, 0)[x]
    score_function_surrogate(f[x], log_p).mean().backward()
    # Per-draw gradients have a standard deviation below 2.5 here, so the
    # mean of 200,000 has a standard error below 0.006.
    torch.testing.assert_close(theta.grad, exact, atol=0.03, rtol=0)


def test_every_estimator_fits_transforms_scores_and_samples_codes(
    estimator_class, codes
):
    est = estimator_class(**{**SMALL, "likelihood": "categorical"}).fit(codes)
    assert est.n_categories_.tolist() == [3, 5]
    assert est.transform(codes).shape == (400, SMALL["n_components"])
    decoded = est.inverse_transform(est.transform(codes[:10]))
    assert set(np.unique(decoded[:, 0])) <= {0, 1, 2}
    samples = est.sample(200, random_state=0)
    assert samples.dtype == np.int64
    assert samples[:, 0].max() <= 2 and samples[:, 1].max() <= 4 and samples.min() >= 0
    log_p = est.score_samples(codes[:20])
    # A log-probability mass of a finite set: at most 0, and near the uniform
    # log(1/15) for these uniform codes.
    assert np.all(log_p <= 0) and abs(log_p.mean() + np.log(15)) < 1.0


@pytest.mark.parametrize("bad, message", [
    ([[0.5, 1.0], [1.0, 2.0]], "integer category codes"),
    ([[-1.0, 1.0], [1.0, 2.0]], "integer category codes"),
])
def test_non_codes_are_refused(estimator_class, bad, message):
    with pytest.raises(ValueError, match=message):
        estimator_class(**{**SMALL, "likelihood": "categorical"}).fit(np.array(bad))


def test_codes_unseen_in_fit_are_refused(codes):
    from mim_sklearn import VAEEncoder

    est = VAEEncoder(**{**SMALL, "likelihood": "categorical"}).fit(codes)
    unseen = codes[:3].copy()
    unseen[0, 1] = 5
    for method in (est.transform, est.score_samples, est.partial_fit):
        with pytest.raises(
            ValueError, match="Feature 1 holds code 5, but fit saw codes 0 to 4"
        ):
            method(unseen)


def test_categorical_estimators_save_and_load(codes, tmp_path):
    from mim_sklearn import MAEEncoder

    est = MAEEncoder(**{**SMALL, "likelihood": "categorical"}).fit(codes)
    save(est, tmp_path / "m.pt")
    restored = load(tmp_path / "m.pt")
    assert restored.n_categories_.tolist() == [3, 5]
    np.testing.assert_array_equal(
        restored.score_samples(codes[:5]), est.score_samples(codes[:5])
    )
    assert restored.mutual_info_ == est.mutual_info_
