"""Reuse of expensive fits within one analysis, keyed by the content of their input arrays.

A cycle fits the same curve more than once (the conversion rates and the time-to-convert table both fit
each transition's curve on all its leads). :func:`by_content` remembers the last few results of a
function of numpy arrays under a digest of the arrays' bytes, so a second call with equal inputs returns
the first call's result. Equal inputs give equal fits, so this changes no figure; the fits are treated as
read-only. What is remembered belongs to the calling thread (cycles analysed side by side in threads never
share or clear each other's fits) and :func:`forget_all` drops it when an analysis ends.
"""
from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from typing import Callable, TypeVar

import numpy as np

Result = TypeVar("Result")
_LOCAL = threading.local()


def content_key(*arrays: np.ndarray) -> bytes:
    """A digest of the arrays' dtypes, shapes and bytes."""
    digest = hashlib.blake2b(digest_size=20)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.view(np.uint8).reshape(-1) if array.size else b"")
    return digest.digest()


def _remembered(name: str) -> OrderedDict:
    """This thread's remembered results of the function called ``name``."""
    if not hasattr(_LOCAL, "caches"):
        _LOCAL.caches = {}
    return _LOCAL.caches.setdefault(name, OrderedDict())


def by_content(size: int = 8) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Decorator: remember the last ``size`` results of a function of numpy arrays, keyed by their content.

    The decorated function takes ``remember=False`` for a call whose result will not be asked for again.
    """
    def decorate(function: Callable[..., Result]) -> Callable[..., Result]:
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def wrapper(*arrays: np.ndarray, remember: bool = True) -> Result:
            if not remember:   # a call made once (a channel's curve): nothing to keep
                return function(*arrays)
            remembered, key = _remembered(name), content_key(*arrays)
            if key in remembered:
                remembered.move_to_end(key)
                return remembered[key]
            result = function(*arrays)
            remembered[key] = result
            if len(remembered) > size:
                remembered.popitem(last=False)
            return result

        return wrapper
    return decorate


def remembered_count() -> int:
    """How many results this thread remembers (all functions)."""
    return sum(len(cache) for cache in getattr(_LOCAL, "caches", {}).values())


def forget_all() -> None:
    """Drop every result this thread remembers (a cycle's fits are large: hundreds of MB at ten million leads)."""
    for cache in getattr(_LOCAL, "caches", {}).values():
        cache.clear()
