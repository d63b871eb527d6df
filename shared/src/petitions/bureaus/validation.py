"""Reading and checking the bureau configuration: every problem in the file reported at once
(:class:`~petitions.bureaus.entries.ConfigError`), each section and entry checked on its own
and the cross-entry rules run over the sound ones."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ValidationError,
)

from petitions.bureaus.config import BureauConfig
from petitions.bureaus.entries import (
    DEFAULT_READ_PURPOSES,
    CalendarSettings,
    City,
    ConfigError,
    Department,
    Leader,
    ReadPurpose,
    RoutingRule,
    SubBureau,
    TopCategory,
    Weekday,
    _duty_weekday,
    walk_categories,
)
from petitions.bureaus.rules import cross_check, duplicates

# ---------------------------------------------------------------------------------------------
# Validation that reports everything


def load_config(path: Path | str) -> BureauConfig:
    """Read and validate the bureau configuration file; raise :class:`ConfigError` listing
    every problem. A relative ``calendar.holidays_dir`` is taken from the file's folder."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            [f"配置文件不存在 configuration file not found: {path}"], source=path
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML 语法错误 TOML syntax error: {exc}"], source=path) from None
    return validate_config(raw, base_dir=path.resolve().parent, source=path)


def validate_config(
    raw: Mapping[str, Any], *, base_dir: Path | None = None, source: Path | str | None = None
) -> BureauConfig:
    """Validate already-parsed configuration data; every problem found goes into one
    :class:`ConfigError`. Each section and each list entry is checked on its own, so one bad
    entry does not hide the faults of the others, and the cross-entry rules still run over the
    entries that are individually sound."""
    problems: list[str] = []
    known = set(BureauConfig.model_fields)
    for key in raw:
        if key not in known:
            problems.append(
                f"{key}: 不认识的配置项 unknown setting "
                f"(expected one of {', '.join(sorted(known))})"
            )

    city = _parse_one(City, raw.get("city"), "city", problems)
    incomplete: set[str] = set()
    subs = _parse_list(SubBureau, raw, "sub_bureaus", problems, incomplete)
    departments = _parse_list(Department, raw, "departments", problems, incomplete)
    leaders = _parse_list(Leader, raw, "leaders", problems, incomplete)
    categories = _parse_list(TopCategory, raw, "categories", problems, incomplete)
    calendar = _parse_one(CalendarSettings, raw.get("calendar"), "calendar", problems)
    routing = (
        _parse_list(RoutingRule, raw, "routing", problems, incomplete) if "routing" in raw else []
    )
    purposes = (
        _parse_list(ReadPurpose, raw, "read_purposes", problems, incomplete)
        if "read_purposes" in raw
        else [(0, p) for p in DEFAULT_READ_PURPOSES]
    )
    for code in duplicates(p.code for _, p in purposes):
        problems.append(f"read_purposes: 查阅目的代码重复 duplicate read purpose code {code!r}")
    unit_codes = {s.code for _, s in subs} | {d.code for _, d in departments}
    if city is not None:
        unit_codes.add(city.code)
    category_codes = {c.code for _, top in categories for c, _ in walk_categories([top])}
    for i, rule in routing:
        if rule.unit not in unit_codes:
            problems.append(f"routing[{i}].unit: 未知单位代码 unknown unit code {rule.unit!r}")
        if rule.category not in category_codes:
            problems.append(
                f"routing[{i}].category: 未知问题分类代码 unknown category code {rule.category!r}"
            )
        if rule.sub_bureau is not None and rule.sub_bureau not in unit_codes:
            problems.append(
                f"routing[{i}].sub_bureau: 未知分县局代码 unknown sub-bureau {rule.sub_bureau!r}"
            )
    makeup_weekday = Weekday.MON
    if "makeup_duty_weekday" in raw:
        try:
            makeup_weekday = _duty_weekday(raw["makeup_duty_weekday"])
        except ValueError as exc:
            problems.append(f"makeup_duty_weekday: {exc} (got {raw['makeup_duty_weekday']!r})")
    due_days = raw.get("instruction_due_working_days", 10)
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not 1 <= due_days <= 60:
        problems.append(
            "instruction_due_working_days: 批示答复期限须为 1 至 60 个工作日 must be a whole "
            f"number of working days from 1 to 60 (got {due_days!r})"
        )
    threshold = raw.get("collective_threshold", 5)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        problems.append(
            f"collective_threshold: 集体访人数门槛须为不小于 2 的整数 must be a whole number of at "
            f"least 2 (got {threshold!r})"
        )

    problems.extend(
        cross_check(city, subs, departments, leaders, categories, incomplete=incomplete)
    )
    if calendar is not None:
        holidays_dir = calendar.holidays_dir
        if base_dir is not None and not holidays_dir.is_absolute():
            holidays_dir = base_dir / holidays_dir
        if not holidays_dir.is_dir():
            problems.append(
                "calendar.holidays_dir: 节假日安排目录不存在 holiday folder not found: "
                f"{holidays_dir}"
            )
        calendar = CalendarSettings(holidays_dir=holidays_dir)

    if problems:
        raise ConfigError(problems, source=source)
    assert city is not None
    assert calendar is not None
    return BureauConfig(
        city=city,
        sub_bureaus=tuple(s for _, s in subs),
        departments=tuple(d for _, d in departments),
        leaders=tuple(leader for _, leader in leaders),
        categories=tuple(c for _, c in categories),
        collective_threshold=threshold,
        calendar=calendar,
        routing=tuple(rule for _, rule in routing),
        read_purposes=tuple(p for _, p in purposes) or DEFAULT_READ_PURPOSES,
        instruction_due_working_days=due_days,
        makeup_duty_weekday=makeup_weekday,
    )


_M = TypeVar("_M", bound=BaseModel)


def _parse_one(model: type[_M], value: Any, label: str, problems: list[str]) -> _M | None:
    if value is None:
        problems.append(f"{label}: 缺少必填项 required section missing")
        return None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, value, label))
        return None


def _parse_list(
    model: type[_M],
    raw: Mapping[str, Any],
    section: str,
    problems: list[str],
    incomplete: set[str],
) -> list[tuple[int, _M]]:
    """The entries that are sound on their own, with their positions in the file; a section
    with any unsound entry is marked incomplete."""
    incomplete.add(section)
    items = raw.get(section)
    if items is None:
        problems.append(f"{section}: 缺少必填项 required section missing")
        return []
    if not isinstance(items, list):
        problems.append(f"{section}: 应为条目列表 must be a list of entries ([[{section}]])")
        return []
    if not items:
        problems.append(f"{section}: 至少需要一项 at least one entry is required")
    parsed: list[tuple[int, _M]] = []
    for index, item in enumerate(items):
        entry = _parse_one(model, item, _entry_label(section, index, item), problems)
        if entry is not None:
            parsed.append((index, entry))
    if len(parsed) == len(items):
        incomplete.discard(section)
    return parsed


def _entry_label(section: str, index: int, item: Any) -> str:
    # Name the entry the way the operator sees it in the file: position, code and name.
    label = f"{section}[{index}]"
    if isinstance(item, Mapping):
        ident = item.get("code", item.get("id"))
        extra = " ".join(str(v) for v in (ident, item.get("name")) if v is not None)
        if extra:
            label += f" ({extra})"
    return label


_ERROR_TEXT = {
    "missing": "缺少必填项 required field missing",
    "extra_forbidden": "不认识的字段 unknown field (check the spelling)",
    "string_pattern_mismatch": "格式不对 wrong format",
    "string_too_short": "不能为空 must not be empty",
    "literal_error": "取值不在允许范围内 not an allowed value",
    "enum": "取值不在允许范围内 not an allowed value",
}


def describe_validation_error(exc: ValidationError, raw: Any, label: str) -> list[str]:
    """Turn pydantic's errors into bilingual lines that name the entry (by code and name, also
    inside nested lists such as sub-categories) rather than a bare index path."""
    lines = []
    for error in exc.errors():
        where = (label + _describe_loc(raw, error["loc"])).lstrip(".") or "(top level)"
        kind = error["type"]
        got = f" (got {error['input']!r})"
        if kind in ("missing", "extra_forbidden"):
            lines.append(f"{where}: {_ERROR_TEXT[kind]}")
        elif kind == "value_error":
            # Our own validators already speak both languages.
            lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}{got}")
        else:
            text = _ERROR_TEXT.get(kind, "取值无效 invalid value")
            lines.append(f"{where}: {text}: {error['msg']}{got}")
    return lines


def _describe_loc(raw: Any, loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
            name = _entry_label("", step, node)
            parts.append(name)
        else:
            parts.append(f".{step}")
            node = node.get(step) if isinstance(node, Mapping) else None
    return "".join(parts)
