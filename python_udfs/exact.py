"""Exact arithmetic for threshold comparisons of the physics states (barrier, fuel).

A state compares integer quantities (contracts, 1e-9 share-gamma) with a threshold times a scale.
Done in floating point, ``x < k * s`` can round differently after every size is multiplied by a
constant; done here, with Python integers and the thresholds' decimal values as Fractions, it
cannot. The arrays are object arrays (the UDFs see a few hundred rows per day).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["whole_numbers", "decimals"]


def whole_numbers(x, shape) -> np.ndarray:
    """Whole-number values broadcast to ``shape`` as an object array of Python ints (ValueError otherwise)."""
    a = np.broadcast_to(np.asarray(x), shape)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError("expected whole numbers")
    return a.astype(np.int64).astype(object)


def decimals(x, shape) -> np.ndarray:
    """Doubles broadcast to ``shape`` as exact Fractions of their shortest decimal form (0.3 -> 3/10)."""
    a = np.broadcast_to(np.asarray(x, dtype=np.float64), shape).reshape(-1)
    values, inverse = np.unique(a, return_inverse=True)
    exact = np.empty(values.size, dtype=object)
    exact[:] = [Fraction(repr(float(v))) for v in values]
    return exact[inverse.reshape(-1)].reshape(shape)
