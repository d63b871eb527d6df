"""The rules across the configuration's entries (codes unique, the departments every bureau
needs, leaders on real duty days, categories well formed ...): run by the loader over the sound
entries and by :class:`~petitions.bureaus.config.BureauConfig` itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from petitions.bureaus.entries import (
    REQUIRED_ROLES,
    CategoryKind,
    City,
    Department,
    Leader,
    SubBureau,
    TopCategory,
    Weekday,
    walk_categories,
)


def duplicates(values: Iterable[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def cross_check(
    city: City | None,
    subs: Sequence[tuple[int, SubBureau]],
    departments: Sequence[tuple[int, Department]],
    leaders: Sequence[tuple[int, Leader]],
    categories: Sequence[tuple[int, TopCategory]],
    *,
    incomplete: Collection[str] = (),
) -> list[str]:
    """Rules that span entries. Each message names the offending entries by position, code
    and name, so the operator can find them in the file. "Nobody has X" is not claimed for a
    section in ``incomplete`` (one whose entries did not all parse): the entry already reported
    as broken may well be the one holding X."""
    problems: list[str] = []

    # Sub-bureaus: the city code prefixes each one, so a bureau's code alone says where it sits.
    def sub_label(index: int, sub: SubBureau) -> str:
        return f"sub_bureaus[{index}] ({sub.code} {sub.name})"

    for index, sub in subs:
        if city is None:
            break
        if sub.code == city.code:
            problems.append(
                f"{sub_label(index, sub)}: 代码与市局相同 code is the city bureau's own code"
            )
        elif not sub.code.startswith(city.code):
            problems.append(
                f"{sub_label(index, sub)}: 分县局代码须以市局代码 {city.code} 开头 "
                f"sub-bureau code must start with the city code {city.code}"
            )
    for field, zh in (("code", "代码"), ("name", "名称")):
        for value in duplicates(getattr(sub, field) for _, sub in subs):
            holders = ", ".join(sub_label(i, s) for i, s in subs if getattr(s, field) == value)
            problems.append(
                f"sub_bureaus: 分县局{zh}重复 duplicate sub-bureau {field} {value!r}: {holders}"
            )

    # Departments: the four with fixed duties must each be findable without ambiguity.
    def dept_label(index: int, dept: Department) -> str:
        return f"departments[{index}] ({dept.code} {dept.name})"

    for value in duplicates(d.code for _, d in departments):
        holders = ", ".join(dept_label(i, d) for i, d in departments if d.code == value)
        problems.append(f"departments: 部门代码重复 duplicate department code {value!r}: {holders}")
    for role, zh in REQUIRED_ROLES.items():
        with_role = [dept_label(i, d) for i, d in departments if d.role is role]
        if not with_role and "departments" not in incomplete:
            problems.append(
                f"departments: 缺少{zh} no department has role {role.value!r} (required)"
            )
        elif len(with_role) > 1:
            problems.append(
                f"departments: {zh}只能有一个 only one department may have role "
                f"{role.value!r}: {', '.join(with_role)}"
            )

    # Leaders: one chief, receiving on Wednesday; some leader on duty every weekday.
    def leader_label(index: int, leader: Leader) -> str:
        return f"leaders[{index}] ({leader.id} {leader.name})"

    for value in duplicates(leader.id for _, leader in leaders):
        holders = ", ".join(leader_label(i, x) for i, x in leaders if x.id == value)
        problems.append(f"leaders: 局领导编号重复 duplicate leader id {value!r}: {holders}")
    problems.extend(check_sub_bureau_leaders(subs, leaders))
    chiefs = [(i, x) for i, x in leaders if x.is_chief]
    if not chiefs and "leaders" not in incomplete:
        problems.append("leaders: 须指定一名一把手 exactly one leader must have is_chief = true")
    elif len(chiefs) > 1:
        holders = ", ".join(leader_label(i, x) for i, x in chiefs)
        problems.append(
            f"leaders: 一把手只能有一名 exactly one leader may have is_chief = true: {holders}"
        )
    for index, chief in chiefs:
        if chief.duty_weekday is not Weekday.WED:
            problems.append(
                f"{leader_label(index, chief)}: 周三是一把手接访日 the chief receives on "
                f"Wednesdays: duty_weekday must be 'wed' "
                f"(got {chief.duty_weekday.name.lower() if chief.duty_weekday else None!r})"
            )
    if leaders and "leaders" not in incomplete:
        on_duty = {x.duty_weekday for _, x in leaders}
        for weekday in (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI):
            if weekday not in on_duty:
                problems.append(
                    f"leaders: {weekday.zh}无局领导接访 no leader is on duty on "
                    f"{weekday.name.capitalize()} (every weekday needs one)"
                )

    # Categories: exactly the three statutory classes on top, codes unique over the whole tree.
    def top_label(index: int, top: TopCategory) -> str:
        return f"categories[{index}] ({top.code} {top.name})"

    kinds = Counter(top.kind for _, top in categories)
    for kind in CategoryKind:
        if kinds[kind] == 0 and "categories" not in incomplete:
            problems.append(
                f"categories: 缺少顶级分类「{kind.zh}」 "
                f"top-level category {kind.value!r} is missing"
            )
        elif kinds[kind] > 1:
            holders = ", ".join(top_label(i, t) for i, t in categories if t.kind is kind)
            problems.append(
                f"categories: 顶级分类「{kind.zh}」重复 top-level category {kind.value!r} "
                f"appears more than once: {holders}"
            )
    for index, top in categories:
        if top.name != top.kind.zh:
            problems.append(
                f"{top_label(index, top)}: 顶级分类 {top.kind.value!r} 的名称应为「{top.kind.zh}」 "
                f"the top-level category of kind {top.kind.value!r} must be named {top.kind.zh}"
            )
        if not top.children:
            problems.append(
                f"{top_label(index, top)}: 至少需要一个子分类 needs at least one sub-category"
            )
    paths = list(walk_categories(top for _, top in categories))
    for value in duplicates(c.code for c, _ in paths):
        holders = ", ".join(
            " > ".join(p.name for p in path) for c, path in paths if c.code == value
        )
        problems.append(f"categories: 分类代码重复 duplicate category code {value!r}: {holders}")
    return problems


def check_sub_bureau_leaders(
    subs: Sequence[tuple[int, SubBureau]], city_leaders: Sequence[tuple[int, Leader]]
) -> list[str]:
    """A sub-bureau's leaders: ids unique over the whole file (events store them, and a leader
    owns cases by id), one head (is_chief) named as the sub-bureau's ``head``, who receives on
    Wednesday like every chief."""
    problems: list[str] = []
    where: dict[str, list[str]] = {}
    for index, leader in city_leaders:
        where.setdefault(leader.id, []).append(f"leaders[{index}]")
    for index, sub in subs:
        label = f"sub_bureaus[{index}] ({sub.code} {sub.name})"
        for position, leader in enumerate(sub.leaders):
            where.setdefault(leader.id, []).append(f"{label}.leaders[{position}]")
        if not sub.leaders:
            continue
        chiefs = [leader for leader in sub.leaders if leader.is_chief]
        if len(chiefs) != 1:
            problems.append(
                f"{label}.leaders: 须指定一名局长 exactly one leader must have is_chief = true "
                f"(got {len(chiefs)})"
            )
        for chief in chiefs:
            if chief.name != sub.head:
                problems.append(
                    f"{label}.leaders: 局长 {chief.name} 与 head {sub.head} 不一致 the chief's "
                    "name must be the sub-bureau's head"
                )
            if chief.duty_weekday not in (None, Weekday.WED):
                problems.append(
                    f"{label}.leaders: 周三是局长接访日 the head receives on Wednesdays: "
                    "duty_weekday must be 'wed'"
                )
    for leader_id, places in where.items():
        if len(places) > 1 and any(".leaders[" in p for p in places):
            problems.append(
                f"局领导编号重复 duplicate leader id {leader_id!r}: {', '.join(places)}"
            )
    return problems
