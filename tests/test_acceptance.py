"""The digits acceptance check of the core estimators, at full size (minutes)."""

import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from mim_sklearn import MIMEncoder


@pytest.mark.slow
def test_default_mim_codes_beat_pca_for_knn_on_raw_digits():
    X, y = load_digits(return_X_y=True)
    n_components = MIMEncoder().n_components
    assert n_components == 10  # so that this also checks the 10-component target

    def knn_accuracy(encoder):
        pipe = Pipeline([("enc", encoder), ("knn", KNeighborsClassifier(5))])
        return cross_val_score(pipe, X, y, cv=5).mean()

    mim = knn_accuracy(MIMEncoder(random_state=0))
    pca = knn_accuracy(PCA(n_components=n_components))
    assert mim >= pca
    assert mim >= 0.94
