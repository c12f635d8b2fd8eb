""""Did you mean ...?" for mistyped spec keys and command names."""
from __future__ import annotations

import difflib
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'targets'?"`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _models_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside an annotation, and whether a dict key or list index comes first."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    keyed = origin in (dict, list, tuple)
    for argument in typing.get_args(annotation):
        model, _ = _models_in(argument)
        if model is not None:
            return model, keyed
    return None, False


def allowed_keys(model: type[BaseModel], location: Sequence[Any]) -> list[str]:
    """The keys allowed at ``location`` (a pydantic error's ``loc`` without its last part)."""
    parts = list(location)
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        if field is None:
            return []
        inner, keyed = _models_in(field.annotation)
        if inner is None:
            return []
        if keyed and parts:
            parts.pop(0)
        model = inner
    return list(model.model_fields)
