"""Bureau configuration and the statutory-deadline calendar: pure logic, no database.

- :func:`load_config` reads the one TOML file describing the city bureau, its sub-bureaus,
  departments, leaders' reception roster, the petition categories and the collective threshold.
- :class:`WorkCalendar` knows the working days of every configured year (one file per year, from
  the State Council's holiday notice) and computes the deadlines of the petition rules.
"""

from petitions.bureaus.calendar import (
    Dated,
    HolidayPeriod,
    HolidayYear,
    MakeupWorkday,
    WorkCalendar,
    YearFile,
    YearNotConfiguredError,
    load_holiday_year,
    load_work_calendar,
    split_note,
)
from petitions.bureaus.config import (
    BureauConfig,
    CalendarSettings,
    Category,
    CategoryKind,
    City,
    ConfigError,
    Department,
    DepartmentRole,
    Leader,
    ReadPurpose,
    RoutingRule,
    SubBureau,
    SubBureauKind,
    TopCategory,
    UnknownCodeError,
    Weekday,
)
from petitions.bureaus.settings import BureauConfigMissingError, BureauSettings
from petitions.bureaus.validation import load_config, validate_config

__all__ = [
    "BureauConfig",
    "BureauConfigMissingError",
    "BureauSettings",
    "CalendarSettings",
    "Category",
    "CategoryKind",
    "City",
    "ConfigError",
    "Dated",
    "Department",
    "DepartmentRole",
    "HolidayPeriod",
    "HolidayYear",
    "Leader",
    "MakeupWorkday",
    "ReadPurpose",
    "RoutingRule",
    "SubBureau",
    "SubBureauKind",
    "TopCategory",
    "UnknownCodeError",
    "Weekday",
    "WorkCalendar",
    "YearFile",
    "YearNotConfiguredError",
    "load_config",
    "load_holiday_year",
    "load_work_calendar",
    "split_note",
    "validate_config",
]
