"""Test-session setup shared by the tests and the doctests."""

import os

# scikit-learn's estimator checks include one that runs with array API
# dispatch enabled; SciPy reads this switch once, at import, so it is set
# before anything imports SciPy. Without it that check is skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
