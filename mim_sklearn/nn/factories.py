"""Components from the names the estimators' string options give.

The registries :data:`~mim_sklearn.nn.likelihoods.LIKELIHOODS` and
:data:`~mim_sklearn.nn.priors.PRIORS` map a name to a class; the functions
here make the component that names and options stand for, so that an
estimator and a user of :class:`~mim_sklearn.nn.LatentVariableModel` build
the same one. They sit above both registries (and
:class:`~mim_sklearn.nn.likelihoods.MixedLikelihood`), which import neither
each other nor this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .likelihoods import LIKELIHOODS, Likelihood, MixedLikelihood
from .priors import PRIORS, Prior


def make_likelihood(
    column_likelihoods: Sequence[str],
    options: Mapping[str, dict] | None = None,
) -> Likelihood:
    """The unbuilt likelihood of columns named one likelihood each.

    One column per name, in the order of x's columns. When every column
    names the same likelihood, it is that likelihood; otherwise a
    :class:`~mim_sklearn.nn.likelihoods.MixedLikelihood` of one group per
    name, in the order in which the names first appear, each group holding
    the columns that name it.

    Parameters
    ----------
    column_likelihoods : sequence of str
        The likelihood of each column, keys of
        :data:`~mim_sklearn.nn.likelihoods.LIKELIHOODS`.
    options : mapping of str to dict or None, default=None
        Keyword arguments of a named likelihood's constructor, by name, such
        as ``{"gaussian": {"variance": "isotropic"}}``; a name not in it is
        made with its defaults.

    Returns
    -------
    Likelihood
        A new likelihood, not yet built (the model sizes it).

    Raises
    ------
    ValueError
        If a name is not a key of ``LIKELIHOODS``, or no column is given.

    Examples
    --------
    >>> make_likelihood(["gaussian"] * 3, {"gaussian": {"variance": "decoded"}})
    GaussianLikelihood(n_features=None, min_log_var=-6.0, variance='decoded')
    >>> mixed = make_likelihood(["gaussian", "bernoulli", "gaussian"])
    >>> [(type(part).__name__, columns) for part, columns in mixed.groups()]
    [('GaussianLikelihood', [0, 2]), ('BernoulliLikelihood', [1])]
    """
    names = list(column_likelihoods)
    unknown = sorted(set(names) - set(LIKELIHOODS))
    if unknown or not names:
        raise ValueError(
            f"Each column needs one of the likelihoods {sorted(LIKELIHOODS)}; "
            f"got {unknown if unknown else 'no column'}."
        )
    options = {} if options is None else options
    # In order of first appearance: the groups' order fixes the layout of the
    # decoder's outputs and the names of the parameters that saved models hold.
    groups = list(dict.fromkeys(names))
    if len(groups) == 1:
        return LIKELIHOODS[groups[0]](**options.get(groups[0], {}))
    return MixedLikelihood([
        (LIKELIHOODS[group](**options.get(group, {})),
         [j for j, name in enumerate(names) if name == group])
        for group in groups
    ])


def make_prior(name: str, n_prior_components: int) -> Prior:
    """The unbuilt prior of a name.

    Parameters
    ----------
    name : str
        A key of :data:`~mim_sklearn.nn.priors.PRIORS`.
    n_prior_components : int
        Number of mixture components (or pseudo-inputs) of a mixture prior;
        the standard normal prior, which has none, ignores it.

    Returns
    -------
    Prior
        A new prior, not yet built (the model sizes it).

    Raises
    ------
    ValueError
        If ``name`` is not a key of ``PRIORS``.

    Examples
    --------
    >>> make_prior("vamp", 5).n_prior_components
    5
    >>> make_prior("standard", 5)
    StandardNormalPrior(n_components=None)
    """
    if name not in PRIORS:
        raise ValueError(f"prior must be one of {sorted(PRIORS)}, got {name!r}.")
    if name == "standard":
        return PRIORS["standard"]()
    return PRIORS[name](n_prior_components=n_prior_components)
