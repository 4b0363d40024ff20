"""Model selection on a cluster: joblib's Dask and Ray backends run a search.

The Dask test starts a real ``dask.distributed.LocalCluster`` of two worker
processes; the Ray test a local Ray of two CPUs. Each search must give the
scores of the same search run sequentially (the estimators are bitwise
deterministic on the CPU), and a second scorer records the process that fit
and scored each candidate: the cluster's workers, never this process.
"""

import os

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from mim_sklearn import MIMEncoder

# Clusters of worker processes: out of the quick lane (make test-fast).
pytestmark = pytest.mark.distributed

N_SPLITS = 3
GRID = {"mim__n_components": [2, 5], "mim__prior": ["standard", "mog"]}


def process_id(estimator, X, y) -> int:
    """A "scorer" that reports the process it runs in (that of the fit)."""
    return os.getpid()


def make_search() -> GridSearchCV:
    encoder = MIMEncoder(
        hidden_layer_sizes=(16,),
        max_iter=3,
        warmup_epochs=1,
        n_prior_components=5,
        device="cpu",
        random_state=0,
    )
    pipe = Pipeline([("mim", encoder), ("knn", KNeighborsClassifier(5))])
    scoring = {"accuracy": "accuracy", "pid": process_id}
    return GridSearchCV(pipe, GRID, scoring=scoring, cv=N_SPLITS, refit=False)


@pytest.fixture(scope="module")
def digits_search():
    """The data, and the scores of the search run sequentially in this process."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:450], y[:450]
    return X, y, make_search().fit(X, y).cv_results_


def split_scores(cv_results: dict, scorer: str = "accuracy") -> np.ndarray:
    return np.array([cv_results[f"split{i}_test_{scorer}"] for i in range(N_SPLITS)])


def assert_same_scores(cv_results: dict, sequential: dict) -> None:
    """Every candidate's accuracy on every split equals the sequential run's."""
    assert cv_results["params"] == sequential["params"]
    np.testing.assert_array_equal(split_scores(cv_results), split_scores(sequential))


def test_grid_search_on_a_dask_cluster(digits_search):
    distributed = pytest.importorskip(
        "distributed",
        reason='needs dask.distributed: pip install -e ".[distributed]"',
    )
    X, y, sequential = digits_search
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            search = make_search().fit(X, y)
        worker_pids = set(client.run(os.getpid).values())

    assert_same_scores(search.cv_results_, sequential)
    # Every fit ran in a worker process, and both workers took a share.
    assert set(split_scores(search.cv_results_, "pid").ravel()) == worker_pids
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids


def test_grid_search_on_ray(digits_search):
    ray = pytest.importorskip("ray", reason='needs ray: pip install -e ".[ray]"')
    from ray.util.joblib import register_ray

    X, y, sequential = digits_search
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with joblib.parallel_backend("ray"):
            search = make_search().fit(X, y)
    finally:
        ray.shutdown()
    assert_same_scores(search.cv_results_, sequential)
    # Every fit ran in one of Ray's two worker processes.
    pids = set(split_scores(search.cv_results_, "pid").ravel())
    assert len(pids) == 2 and os.getpid() not in pids
