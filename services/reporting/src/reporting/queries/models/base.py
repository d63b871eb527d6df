"""The base of every reporting query model (frozen) and the two shapes most of them share:
a unit reference and a rate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class BureauRef(_Out):
    code: str = Field(description="单位代码 unit code")
    name: str = Field(description="单位名称 unit name")


class Rate(_Out):
    numerator: int
    denominator: int
    ratio: float | None = Field(description="numerator / denominator; null when nothing to divide")
