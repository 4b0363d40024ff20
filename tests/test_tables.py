"""Tables: missing values, mixed column types and DataFrames, the imputer."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.impute import SimpleImputer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from mim_sklearn import LatentImputer, MIMEncoder, VAEEncoder, load, save
from mim_sklearn.nn import (
    BernoulliLikelihood,
    CategoricalLikelihood,
    GaussianLikelihood,
    LatentVariableModel,
    MixedLikelihood,
)

from .conftest import SMALL

NAN = float("nan")


def table(n_rows=240, seed=0):
    """A mixed table whose columns depend on one another, with gaps."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n_rows)
    frame = pd.DataFrame({
        "height": 170 + 10 * signal + rng.normal(size=n_rows),
        "weight": pd.array(np.rint(70 + 8 * signal), dtype="Int64"),
        "smoker": signal + rng.normal(scale=0.5, size=n_rows) > 0,
        "size": pd.Categorical(np.where(signal > 0.5, "L", np.where(
            signal < -0.5, "S", "M")), categories=["S", "M", "L"]),
        "town": pd.Series(rng.choice(["Oslo", "Rome"], n_rows), dtype=object),
    })
    frame.loc[::7, "height"] = np.nan
    frame.loc[::5, "size"] = np.nan
    frame.loc[3::11, "weight"] = pd.NA
    return frame


# ------------------------------------------------------------- likelihoods

@pytest.mark.parametrize("likelihood, x", [
    (GaussianLikelihood(3), [[0.3, NAN, -1.0]]),
    (BernoulliLikelihood(3), [[1.0, NAN, 0.0]]),
    (CategoricalLikelihood(3, n_categories=[2, 3, 2]), [[1.0, NAN, 0.0]]),
])
def test_a_missing_entry_contributes_no_term(likelihood, x):
    torch.manual_seed(0)
    x = torch.tensor(x)
    params = torch.randn(1, likelihood.n_outputs())

    def only(row, j):  # the row with every entry but the j-th missing
        kept = torch.full_like(row, NAN)
        kept[0, j] = row[0, j]
        return kept

    # The missing entry filled in: the row's log-probability is the sum of
    # its entries' terms, each read from a row holding that entry alone ...
    filled = x.nan_to_num(1.0)
    torch.testing.assert_close(
        likelihood.log_prob(filled, params),
        sum(likelihood.log_prob(only(filled, j), params) for j in range(3)))
    # ... and with the gap, the sum of the observed entries' terms only.
    torch.testing.assert_close(
        likelihood.log_prob(x, params),
        likelihood.log_prob(only(x, 0), params) + likelihood.log_prob(only(x, 2),
                                                                      params))


def test_gradients_stay_finite_through_missing_entries():
    likelihood = GaussianLikelihood(2)
    params = torch.zeros(1, 2, requires_grad=True)
    likelihood.log_prob(torch.tensor([[NAN, 1.0]]), params).sum().backward()
    assert torch.isfinite(params.grad).all() and params.grad[0, 0] == 0


def test_a_mixed_likelihood_keeps_the_columns_in_their_places():
    likelihood = MixedLikelihood(
        [(BernoulliLikelihood(), [2]), (GaussianLikelihood(), [0, 3]),
         (CategoricalLikelihood(n_categories=[3]), [1])], 4)
    # Bernoulli logit, Gaussian means, categorical logits, in the groups' order.
    params = torch.tensor([[10.0, 0.5, -2.0, 0.0, 0.0, 9.0]])
    torch.testing.assert_close(likelihood.reconstruction(params),
                               torch.tensor([[0.5, 2.0, float(torch.sigmoid(
                                   torch.tensor(10.0))),
                                              -2.0]]))
    x = torch.tensor([[0.5, 2.0, 1.0, -2.0]])
    parts = (BernoulliLikelihood(1).log_prob(x[:, [2]], params[:, :1])
             + GaussianLikelihood(2).log_prob(x[:, [0, 3]], params[:, 1:3])
             + CategoricalLikelihood(1, n_categories=[3]).log_prob(x[:, [1]],
                                                                    params[:, 3:]))
    torch.testing.assert_close(likelihood.log_prob(x, params), parts)
    with pytest.raises(ValueError, match="exactly once"):
        MixedLikelihood([(GaussianLikelihood(), [0, 1])], 3)


def test_a_mixture_reconstructs_its_mean_or_its_most_probable_category():
    weights = torch.tensor([[0.75], [0.25]])  # two draws of one row
    gaussian = GaussianLikelihood(1)
    torch.testing.assert_close(
        gaussian.expected_reconstruction(torch.tensor([[[1.0]], [[5.0]]]), weights),
        torch.tensor([[2.0]]))
    categorical = CategoricalLikelihood(1, n_categories=[3])
    # Draw 1 favours category 0 a little, draw 2 category 2 strongly: the
    # mixture's most probable category is 2, the draws' modes a majority 0.
    logits = torch.log(torch.tensor([[[0.4, 0.3, 0.3]], [[0.0, 0.0, 1.0]]]))
    torch.testing.assert_close(
        categorical.expected_reconstruction(logits, torch.tensor([[0.6], [0.4]])),
        torch.tensor([[2.0]]))
    mixed = MixedLikelihood([(categorical, [1]), (gaussian, [0])], 2)
    params = torch.cat([logits, torch.tensor([[[1.0]], [[5.0]]])], dim=-1)
    # Column 0 the Gaussian's weighted mean, column 1 the mixture's category.
    torch.testing.assert_close(
        mixed.expected_reconstruction(params, torch.tensor([[0.9], [0.1]])),
        torch.tensor([[1.4, 2.0]]))


def test_conditional_reconstruction_weighs_the_draws_by_the_observed_entries():
    model = LatentVariableModel(2, 1, (8,), "tanh", seed=0)
    x = torch.tensor([[0.7, NAN]])
    generator = torch.Generator().manual_seed(0)
    log_weights, params = model.importance_weights(x, 64, generator)
    expected = (torch.softmax(log_weights, 0).unsqueeze(-1) * params).sum(0)
    got = model.conditional_reconstruction(x, 64, torch.Generator().manual_seed(0))
    torch.testing.assert_close(got, expected)
    # The plain average of the draws differs: the weights matter.
    assert not torch.allclose(got, params.mean(0))


def test_the_encoder_reads_which_entries_are_missing():
    model = LatentVariableModel(3, 2, (8,), "tanh", missing_indicators=True)
    assert model.encoder[0].in_features == 6
    zero = model.encode(torch.tensor([[0.0, 0.0, 0.0]]))[0]
    missing = model.encode(torch.tensor([[0.0, NAN, 0.0]]))[0]
    assert torch.isfinite(missing).all() and not torch.equal(zero, missing)
    with pytest.raises(ValueError, match="convolutional"):
        LatentVariableModel(4, 2, (8,), "tanh", architecture="conv",
                            image_shape=(1, 2, 2), missing_indicators=True)


# ------------------------------------------------------ arrays with gaps

def low_rank(n_rows=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 2)) @ rng.normal(size=(2, 8)) * 3 + 5
    X += rng.normal(scale=0.1, size=X.shape)
    gaps = X.copy()
    gaps[rng.random(X.shape) < 0.2] = np.nan
    return X, gaps


def test_fit_transform_and_score_take_missing_values(estimator_class):
    X, gaps = low_rank()
    est = estimator_class(**SMALL).fit(gaps)
    assert est.__sklearn_tags__().input_tags.allow_nan
    assert est.model_.missing_indicators
    for output in (est.transform(gaps), est.score_samples(gaps),
                   est.sample_posterior(gaps)):
        assert np.isfinite(output).all()
    # Complete data, given to a model trained with gaps, works as well.
    assert np.isfinite(est.transform(X)).all()


def test_the_score_is_a_density_of_the_observed_entries_in_their_units():
    _, gaps = low_rank()
    settings = dict(SMALL, scaling="feature")
    plain = VAEEncoder(**settings).fit(gaps)
    scaled = VAEEncoder(**settings).fit(gaps * 10)
    # Same model in other units: each observed entry adds log(1/10).
    n_observed = (~np.isnan(gaps[:20])).sum(axis=1)
    np.testing.assert_allclose(
        scaled.score_samples(gaps[:20] * 10),
        plain.score_samples(gaps[:20]) - n_observed * np.log(10), rtol=1e-4)


@pytest.mark.statistical
def test_the_imputer_beats_the_mean_on_correlated_columns():
    X, gaps = low_rank()
    missing = np.isnan(gaps)
    imputer = LatentImputer(VAEEncoder(2, hidden_layer_sizes=(64,),
                                       random_state=0, device="cpu"))
    filled = imputer.fit_transform(gaps)
    np.testing.assert_array_equal(filled[~missing], gaps[~missing])
    rmse = np.sqrt(((filled - X)[missing] ** 2).mean())
    mean_rmse = np.sqrt(((SimpleImputer().fit_transform(gaps) - X)[missing] ** 2)
                        .mean())
    # Measured over random_state 0 to 4: 1.02 to 1.38 against the mean's 2.55
    # (KNNImputer 0.67, IterativeImputer 0.28: 360 training rows make 3 steps
    # an epoch at the default batch size; with batch_size=32 it is 0.30-0.35).
    assert rmse < 0.7 * mean_rmse


def test_the_imputer_models_with_a_vae_by_default():
    _, gaps = low_rank(60)
    imputer = LatentImputer().fit(gaps)
    assert type(imputer.estimator_) is VAEEncoder and imputer.estimator is None


def test_a_feature_never_observed_is_refused(estimator_class):
    _, gaps = low_rank(50)
    gaps[:, 3] = np.nan
    with pytest.raises(ValueError, match=r"Feature\(s\) 3 have no observed value"):
        estimator_class(**SMALL).fit(gaps)


def test_a_likelihood_without_missing_values_refuses_them():
    class Complete(GaussianLikelihood):
        supports_missing = False

    _, gaps = low_rank(50)
    with pytest.raises(ValueError, match="Complete does not model"):
        VAEEncoder(**SMALL, likelihood=Complete()).fit(gaps)


# ------------------------------------------------------------- DataFrames

def test_a_mixed_table_goes_straight_in_and_comes_back_in_its_dtypes():
    frame = table()
    est = MIMEncoder(**SMALL).fit(frame)
    likelihood = est.model_.likelihood
    assert isinstance(likelihood, MixedLikelihood)
    assert likelihood.parts_columns == [[0, 1], [2], [3, 4]]
    assert est.n_categories_.tolist() == [0, 0, 0, 3, 2]
    # Numbers standardised one by one ("auto" on a DataFrame), others as is.
    assert est.scale_[0] == pytest.approx(frame.height.std(ddof=0))
    assert est.scale_[2:].tolist() == [1.0, 1.0, 1.0]
    codes = est.transform(frame)
    assert codes.shape == (240, 3) and np.isfinite(codes).all()
    decoded = est.inverse_transform(codes)
    assert decoded.dtypes.tolist() == frame.dtypes.tolist()
    assert decoded.columns.tolist() == frame.columns.tolist()
    assert decoded["size"].cat.categories.tolist() == ["S", "M", "L"]
    assert set(decoded.town) <= {"Oslo", "Rome"} and not decoded.isna().any().any()
    drawn = est.sample(50, random_state=0)
    assert drawn.dtypes.tolist() == frame.dtypes.tolist()
    assert np.isfinite(est.score_samples(frame)).all()


def test_a_frame_under_pandas_output_keeps_its_index():
    frame = table().set_axis(np.arange(1000, 1240))
    est = VAEEncoder(**SMALL).set_output(transform="pandas").fit(frame)
    codes = est.transform(frame)
    assert codes.index.tolist() == frame.index.tolist()
    assert est.inverse_transform(codes).index.tolist() == frame.index.tolist()


def test_columns_take_the_likelihood_named_for_them():
    frame = table()
    est = VAEEncoder(**SMALL, likelihood={"weight": "categorical"}).fit(
        frame.assign(weight=frame.weight - frame.weight.min()))
    assert est.model_.likelihood.parts_columns == [[0], [1, 3, 4], [2]]
    with pytest.raises(ValueError, match="does not have"):
        VAEEncoder(**SMALL, likelihood={"age": "gaussian"}).fit(frame)
    with pytest.raises(ValueError, match="'town' holds categories"):
        VAEEncoder(**SMALL, likelihood={"town": "gaussian"}).fit(frame)
    with pytest.raises(ValueError, match="must be one of"):
        VAEEncoder(**SMALL, likelihood={"town": "poisson"}).fit(frame)


def test_an_unseen_category_gets_a_clear_error():
    frame = table()
    est = VAEEncoder(**SMALL).fit(frame)
    new = frame.head(3).copy()
    new["town"] = ["Oslo", "Lima", "Rome"]
    with pytest.raises(ValueError, match=r"Column 'town' holds categories not seen "
                                         r"in fit: \['Lima'\]"):
        est.transform(new)
    # As the message says: a missing entry is fine.
    new.loc[1, "town"] = None
    assert np.isfinite(est.transform(new)).all()


def test_a_table_with_its_gaps_saves_and_loads(tmp_path):
    frame = table()
    est = MIMEncoder(**SMALL).fit(frame)
    save(est, tmp_path / "table.pt")
    loaded = load(tmp_path / "table.pt")
    np.testing.assert_array_equal(loaded.transform(frame), est.transform(frame))
    pd.testing.assert_frame_equal(loaded.sample(20, random_state=1),
                                  est.sample(20, random_state=1))
    unpickled = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(unpickled.inverse_transform(est.transform(frame)),
                                  est.inverse_transform(est.transform(frame)))


def test_the_imputer_fills_a_table_in_a_pipeline():
    frame = table()
    filled = LatentImputer(VAEEncoder(**SMALL)).fit_transform(frame)
    assert not filled.isna().any().any()
    assert filled.dtypes.tolist() == frame.dtypes.tolist()
    observed = frame.notna()
    pd.testing.assert_frame_equal(filled[observed.all(axis=1)],
                                  frame[observed.all(axis=1)])
    y = frame.smoker.to_numpy()
    pipe = Pipeline([("mim", MIMEncoder(**SMALL)), ("knn", KNeighborsClassifier(5))])
    assert pipe.fit(frame.drop(columns="smoker"), y).score(
        frame.drop(columns="smoker"), y) > 0.5


@parametrize_with_checks([LatentImputer(VAEEncoder(
    hidden_layer_sizes=(16,), max_iter=5, random_state=0, device="cpu"))])
def test_the_imputer_passes_the_scikit_learn_checks(estimator, check):
    check(estimator)


def test_chunks_with_gaps_give_the_model_its_indicators():
    from mim_sklearn.out_of_core import partial_fit_epochs

    _, gaps = low_rank(200)
    complete_first = np.vstack([np.nan_to_num(gaps[:100], nan=5.0), gaps[100:]])
    # The first chunk has no gap: the indicators come from reading them all.
    est = partial_fit_epochs(VAEEncoder(**SMALL), complete_first, n_epochs=1,
                             chunk_rows=100, shuffle=False)
    assert est.model_.missing_indicators
    assert np.isfinite(est.transform(gaps)).all()


def test_a_model_of_complete_data_still_encodes_rows_with_gaps():
    X, gaps = low_rank(100)
    est = VAEEncoder(**SMALL).fit(X)
    assert not est.model_.missing_indicators
    assert np.isfinite(est.transform(gaps)).all()
    assert np.isfinite(est.score_samples(gaps)).all()


def test_weights_and_a_validation_frame_with_a_table():
    frame = table()
    train, valid = frame.iloc[:200], frame.iloc[200:]
    weights = np.where(train.smoker, 2.0, 1.0)
    est = MIMEncoder(**SMALL).fit(train, sample_weight=weights, X_val=valid)
    assert len(est.validation_loss_curve_) == est.n_iter_
    with pytest.raises(ValueError, match="feature names"):
        MIMEncoder(**SMALL).fit(train, X_val=valid[valid.columns[::-1]])


@pytest.mark.parametrize("column, message", [
    (pd.to_datetime(["2020-01-01"] * 240), "neither numbers, booleans nor categories"),
    (pd.Series(["a", 1] * 120, dtype=object), "mixes values that cannot be ordered"),
    (pd.Series([1 + 2j] * 240), "neither numbers, booleans nor categories"),
])
def test_a_column_of_another_kind_gets_a_clear_error(column, message):
    frame = table().assign(odd=column)
    est = VAEEncoder(**SMALL)
    with pytest.raises(ValueError, match=message):
        est.fit(frame)
    assert not hasattr(est, "net_")


def test_a_frame_without_the_fitted_columns_is_refused():
    frame = table()
    est = VAEEncoder(**SMALL).fit(frame)
    with pytest.raises(ValueError, match="feature names"):
        est.transform(frame.drop(columns="town").assign(other=1.0))
    with pytest.raises(ValueError, match="now missing:\n- town"):
        est.transform(frame.drop(columns="town"))
