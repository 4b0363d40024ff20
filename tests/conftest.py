import os

import pytest
import torch
from sklearn.datasets import load_digits

from mim_sklearn import AMIMEncoder, MAEEncoder, MIMEncoder, VAEEncoder

# One intra-op thread, as the papers' benchmarks and the docs' examples run: the
# networks under test are tiny, so a second thread gains nothing, and on
# cores shared with other work its spinning doubled the quick lane's time
# (137 s against 63 s on 2 shared cores). An explicit OMP_NUM_THREADS wins.
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(1)

ESTIMATORS = [MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder]
# Small settings: a real model trained for a few epochs, in well under a second.
SMALL = dict(
    n_components=3,
    hidden_layer_sizes=(16,),
    max_iter=8,
    warmup_epochs=2,
    n_iter_no_change=3,
    n_importance_samples=16,
    device="cpu",
    random_state=0,
)


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def estimator_class(request):
    return request.param


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture
def small_estimator(estimator_class):
    return estimator_class(**SMALL)
