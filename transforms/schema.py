"""Arrow schemas derived from the pydantic row models (the single source of truth)."""
from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Any, Iterable, Optional, Union

import pyarrow as pa
from pydantic import BaseModel

_SCALARS = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    bytes: pa.binary(),
    datetime: pa.timestamp("us", tz="UTC"),
}


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
        raise TypeError(f"unions other than Optional[X] have no Arrow type: {annotation!r}")
    return annotation, False


def arrow_type(annotation: Any) -> pa.DataType:
    """Map a field annotation (scalar, Optional, list/tuple of X, nested model) to Arrow."""
    annotation, _ = _unwrap_optional(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        (item, *rest) = typing.get_args(annotation)
        if origin is tuple and rest and rest != [Ellipsis]:
            raise TypeError(f"only homogeneous tuples have an Arrow type: {annotation!r}")
        return pa.list_(arrow_type(item))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([_field(n, f.annotation) for n, f in annotation.model_fields.items()])
    if origin is typing.Literal:
        return pa.string()
    raise TypeError(f"no Arrow type for annotation {annotation!r}")


def _field(name: str, annotation: Any, description: Optional[str] = None) -> pa.Field:
    _, nullable = _unwrap_optional(annotation)
    metadata = {"description": description} if description else None
    return pa.field(name, arrow_type(annotation), nullable=nullable, metadata=metadata)


def arrow_schema(model: type[BaseModel], exclude: Iterable[str] = ()) -> pa.Schema:
    """The Arrow schema of ``model``'s fields (minus ``exclude``), with their descriptions."""
    skip = set(exclude)
    return pa.schema(
        [
            _field(name, info.annotation, info.description)
            for name, info in model.model_fields.items()
            if name not in skip
        ]
    )
