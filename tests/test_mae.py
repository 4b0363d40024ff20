"""The mutual autoencoder: the poster's two demos, small and fast."""

import numpy as np
import pytest
import torch

from mim_sklearn import MAEEncoder, VAEEncoder
from mim_sklearn.datasets import make_standard_normal, make_uniform_categorical
from mim_sklearn.metrics import ksg_mutual_information

# The same small networks for the MAE and the VAE it is compared with.
CAPACITY = dict(n_components=1, hidden_layer_sizes=(16, 16), device="cpu",
                random_state=0)


@pytest.fixture(scope="module")
def normal_data():
    return make_standard_normal(2000, random_state=0)


def decoding_mutual_information(est):
    """KSG estimate of I(x; z) on draws from p(z) p(x|z)."""
    X, Z = est.sample(3000, random_state=1, return_latent=True)
    return ksg_mutual_information(X, Z)


@pytest.mark.statistical
@pytest.mark.parametrize("target", [0.4, 0.8, 1.2])
def test_splitting_the_normal_holds_the_target_information(normal_data, target):
    est = MAEEncoder(target_mutual_info=target, **CAPACITY).fit(normal_data)
    # Both the bound the model trains and an independent KSG estimate on its
    # samples are within 0.2 nats of the target (the acceptance).
    assert est.mutual_info_ == pytest.approx(target, abs=0.2)
    assert decoding_mutual_information(est) == pytest.approx(target, abs=0.2)


@pytest.mark.statistical
def test_a_vae_of_the_same_capacity_finds_the_trivial_solution(normal_data):
    vae = VAEEncoder(**CAPACITY).fit(normal_data)
    assert decoding_mutual_information(vae) < 0.2


@pytest.mark.statistical
def test_changing_the_target_and_continuing_uses_the_new_target(normal_data):
    est = MAEEncoder(target_mutual_info=0.4, warm_start=True, **CAPACITY)
    est.fit(normal_data)
    est.set_params(target_mutual_info=1.2).fit(normal_data)
    assert est.mutual_info_ == pytest.approx(1.2, abs=0.2)


def decoder_rows(est, z_grid):
    """p(x|z) over the categories, one row per z of the grid."""
    model = est.model_
    with torch.no_grad():
        params = model.decode(torch.as_tensor(z_grid, dtype=torch.float32))
        return model.likelihood.log_probabilities(params).exp()[:, 0].numpy()


@pytest.mark.statistical
def test_categorical_decoder_depends_more_on_z_as_the_target_grows():
    X = make_uniform_categorical(2000, random_state=0)
    grid = np.linspace(-2, 2, 9)[:, None]
    entropies, bounds = [], []
    for target in (0.2, 1.0):
        est = MAEEncoder(target_mutual_info=target, likelihood="categorical",
                         **{**CAPACITY, "hidden_layer_sizes": (32, 32)}).fit(X)
        rows = decoder_rows(est, grid)
        np.testing.assert_allclose(rows.sum(1), 1.0, rtol=1e-5)
        entropies.append(-(rows * np.log(rows + 1e-12)).sum(1).mean())
        bounds.append(est.mutual_info_)
    # More information: each p(x|z) is more peaked (lower entropy), and the
    # bound follows the target.
    assert entropies[1] < entropies[0] - 0.3
    assert bounds[0] == pytest.approx(0.2, abs=0.2)
    assert bounds[1] == pytest.approx(1.0, abs=0.25)


def test_mutual_info_needs_the_auxiliary_posterior():
    from mim_sklearn.nn import LatentVariableModel

    model = LatentVariableModel(2, 1, (4,), "tanh")
    with pytest.raises(ValueError, match="auxiliary_posterior"):
        model.log_r_z_given_x(torch.zeros(3, 1), torch.zeros(3, 2))
