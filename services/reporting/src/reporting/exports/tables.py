"""A report laid out as sheets of bilingual columns: the one shape both XLSX and CSV render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class Percent:
    """A ratio (0.725) kept a number: XLSX stores it with the format ``0.0%`` (72.5%), CSV writes
    ``72.5%``. None (nothing to divide) is an empty cell, never text in a number column."""

    ratio: float | None


@dataclass(frozen=True, slots=True)
class Points:
    """A change of a rate in percentage points (+5.0 pp), stored as the number 5.0: a delta of
    two rates written as ``+5.0%`` would read as a relative change."""

    value: float | None


Cell = str | int | float | bool | date | datetime | Percent | Points | None


@dataclass(frozen=True, slots=True)
class Column:
    zh: str
    en: str
    width: int = 14

    @property
    def header(self) -> str:
        """ "案件编号 Case number": Chinese for the reader, English for anyone else."""
        return f"{self.zh} {self.en}"


@dataclass(frozen=True, slots=True)
class Chart:
    """A native chart over its sheet's own table (XLSX only: a CSV has no charts). ``labels``
    and ``values`` are column indices; each value column is a series, named by its header.
    Counts get whole-number ticks from 0, the axis ending at the first tick at or above the
    data (as the SVG charts)."""

    kind: Literal["column", "bar", "line"]
    title: str
    labels: int
    values: Sequence[int]
    counts: bool = True


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str  # the XLSX tab; Excel allows 31 characters
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    notes: Sequence[str] = ()  # lines above the table: scope, period, report date
    charts: Sequence[Chart] = ()  # beside the table, one below the other


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    filename: str  # without extension; may be Chinese
    ascii_filename: str  # the fallback for clients without RFC 5987
    sheets: Sequence[Sheet] = field(default_factory=tuple)
