"""A route's pydantic answer sent as JSON as it is.

FastAPI checks a returned model against the route's ``response_model`` by dumping it to a dict,
validating that dict back into a model (on a second worker-thread hop, for a sync route) and only
then serializing it: on a coordinator's typical lot that was a third of the time the route took.
The library's models are already validated when made, so the hot routes return :class:`ModelJSON`
and keep ``response_model`` for the documented schema.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter


class ModelJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.__pydantic_serializer__.to_json(content)
        return _ANY.dump_json(content)


_ANY: TypeAdapter[Any] = TypeAdapter(Any)
