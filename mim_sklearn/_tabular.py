"""Tables: a pandas DataFrame's columns as the float array the model reads.

A :class:`TableSchema` records, at ``fit``, what each column of a DataFrame
holds: numbers, booleans or categories (and which). It turns any DataFrame
with those columns into a float array (numbers as they are, booleans as 0/1,
categories as integer codes; every missing entry, NaN, None or ``pd.NA``, as
NaN) and turns such an array back into a DataFrame with the original dtypes.
pandas is imported only when a DataFrame is given: it is an optional
dependency of the package.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: The likelihood a column of each kind gets unless the user names another.
DEFAULT_LIKELIHOODS = {
    "numeric": "gaussian",
    "boolean": "bernoulli",
    "categorical": "categorical",
}


def is_dataframe(X) -> bool:
    """Whether X is a pandas DataFrame (without importing pandas)."""
    return type(X).__module__.startswith("pandas") and hasattr(X, "columns")


@dataclass
class Column:
    """What a column of a table holds.

    Parameters
    ----------
    name : str
        The column's label.
    kind : {"numeric", "boolean", "categorical"}
        How its values are read: as numbers, as 0/1, or as category codes.
    dtype : str
        Its pandas dtype at ``fit``, restored by :meth:`TableSchema.to_frame`.
    categories : list or None
        The categories of a categorical column, in the order of their codes.
    ordered : bool
        Whether a ``category`` column's categories are ordered.
    """

    name: str
    kind: str
    dtype: str
    categories: list | None = None
    ordered: bool = False


def _column_kind(name, dtype) -> str:
    import pandas as pd

    types = pd.api.types
    if types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype) or types.is_object_dtype(dtype) or (
        types.is_string_dtype(dtype)
    ):
        return "categorical"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return "numeric"
    raise ValueError(
        f"Column {name!r} has dtype {dtype}, which is neither numbers, booleans "
        "nor categories; convert it (dates to numbers, say) or drop it."
    )


class TableSchema:
    """The columns of the DataFrame an estimator was fitted on.

    Parameters
    ----------
    columns : list of Column
        One description per column, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": [1.5, None], "colour": ["red", "blue"]})
    >>> schema = TableSchema.from_frame(frame)
    >>> [c.kind for c in schema.columns]
    ['numeric', 'categorical']
    >>> schema.to_array(frame)
    array([[1.5, 1. ],
           [nan, 0. ]])
    >>> schema.to_frame(schema.to_array(frame)).colour.tolist()
    ['red', 'blue']
    """

    def __init__(self, columns: list[Column]) -> None:
        self.columns = columns

    @classmethod
    def from_frame(cls, frame) -> TableSchema:
        """Read the columns' kinds, dtypes and categories from a DataFrame.

        The categories of a ``category`` column are its dtype's; those of an
        ``object`` or string column are its distinct values, sorted.

        Parameters
        ----------
        frame : pandas.DataFrame
            The training data.

        Returns
        -------
        TableSchema
            The description of its columns.
        """
        import pandas as pd

        columns = []
        for name, series in frame.items():
            kind = _column_kind(name, series.dtype)
            column = Column(str(name), kind, str(series.dtype))
            if kind == "categorical":
                if isinstance(series.dtype, pd.CategoricalDtype):
                    column.categories = series.cat.categories.tolist()
                    column.ordered = bool(series.cat.ordered)
                else:
                    values = series.dropna().unique().tolist()
                    try:
                        column.categories = sorted(values)
                    except TypeError as error:  # such as numbers mixed with text
                        raise ValueError(
                            f"Column {name!r} mixes values that cannot be ordered "
                            f"({error}); give it one type, or make it a 'category' "
                            "column."
                        ) from None
            columns.append(column)
        return cls(columns)

    @property
    def kinds(self) -> list[str]:
        """The kind of each column, in order."""
        return [column.kind for column in self.columns]

    @property
    def n_categories(self) -> list[int]:
        """The number of categories of each column (0 for other kinds)."""
        return [len(c.categories) if c.categories is not None else 0
                for c in self.columns]

    def to_array(self, frame) -> np.ndarray:
        """The float array of a DataFrame with the fitted columns.

        Numbers are kept, booleans become 0/1 and categories their codes;
        missing entries become NaN.

        Parameters
        ----------
        frame : pandas.DataFrame
            Data with the columns seen at ``fit``, in that order.

        Returns
        -------
        ndarray of shape (n_rows, n_columns)
            float32 if every column is float32, else float64.

        Raises
        ------
        ValueError
            If a categorical column holds a category not seen at ``fit``, or
            a column cannot be read as its kind.
        """
        import pandas as pd

        all_float32 = all(str(dtype) == "float32" for dtype in frame.dtypes)
        array = np.empty(frame.shape, dtype=np.float32 if all_float32 else np.float64)
        for j, (column, (name, series)) in enumerate(zip(self.columns, frame.items())):
            if column.kind == "categorical":
                codes = pd.Index(column.categories).get_indexer(
                    series.astype(object)
                )
                unknown = (codes == -1) & series.notna().to_numpy()
                if unknown.any():
                    seen = series[unknown].unique().tolist()[:5]
                    raise ValueError(
                        f"Column {name!r} holds categories not seen in fit: {seen}. "
                        "Refit on data that has them, or set those entries to "
                        "missing (NaN), which the model fills in."
                    )
                array[:, j] = np.where(codes == -1, np.nan, codes)
            else:
                try:
                    array[:, j] = pd.to_numeric(series).to_numpy(
                        dtype=np.float64, na_value=np.nan
                    )
                except (TypeError, ValueError) as error:
                    raise ValueError(
                        f"Column {name!r} was {column.kind} in fit but cannot be "
                        f"read as such now: {error}"
                    ) from None
        return array

    def to_frame(self, array: np.ndarray, index=None):
        """The DataFrame of an array of the model's values, in fit's dtypes.

        Integer columns are rounded, booleans are ``value >= 0.5`` and codes
        become their categories (NaN: missing).

        Parameters
        ----------
        array : ndarray of shape (n_rows, n_columns)
            Values in the user's units, such as decoded or sampled rows.
        index : array-like or None, default=None
            The index of the DataFrame; None numbers the rows from 0.

        Returns
        -------
        pandas.DataFrame
            The rows, with the fitted columns' names and dtypes.
        """
        import pandas as pd

        data = {}
        for j, column in enumerate(self.columns):
            values = array[:, j]
            if column.kind == "categorical":
                codes = np.clip(np.rint(values), 0, len(column.categories) - 1)
                categorical = pd.Categorical.from_codes(
                    np.where(np.isnan(codes), -1, codes).astype(np.int64),
                    column.categories, ordered=column.ordered,
                )
                if column.dtype != "category":
                    categorical = np.asarray(categorical, dtype=object)
                values = categorical
            elif column.kind == "boolean":
                values = values >= 0.5
            elif pd.api.types.is_integer_dtype(column.dtype):
                values = np.rint(values)
            # A Series keeps its dtype in the frame (an object array would
            # become strings under pandas 3's inference).
            data[column.name] = pd.Series(values, index=index, dtype=column.dtype)
        return pd.DataFrame(data, index=index)

    def to_json(self) -> list[dict]:
        """The schema as JSON-able values (for :func:`mim_sklearn.save`)."""
        return [asdict(column) for column in self.columns]

    @classmethod
    def from_json(cls, columns: list[dict]) -> TableSchema:
        """The schema that :meth:`to_json` wrote."""
        return cls([Column(**column) for column in columns])
