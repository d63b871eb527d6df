"""The bureau configuration: the demo file loads, and every kind of fault is caught and named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from petitions.bureaus import (
    BureauConfig,
    CategoryKind,
    ConfigError,
    DepartmentRole,
    UnknownCodeError,
    Weekday,
    load_config,
    validate_config,
)
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "config" / "bureaus.demo.toml"

# A small valid configuration; each bad case below edits one or more lines of it.
MINIMAL = """\
collective_threshold = 5

[city]
code = "9901"
name = "测试市公安局"
name_en = "Test City PSB"

[calendar]
holidays_dir = "holidays"

[[sub_bureaus]]
code = "990102"
name = "东城分局"
name_en = "Dongcheng Sub-bureau"
kind = "区"
head = "甲局长"

[[sub_bureaus]]
code = "990121"
name = "西山县公安局"
name_en = "Xishan County PSB"
kind = "县"
head = "乙局长"

[[departments]]
code = "xinfang"
name = "信访科"
name_en = "Petition Office"
role = "petition_office"

[[departments]]
code = "fazhi"
name = "法制支队"
name_en = "Legal Affairs"
role = "legal"

[[departments]]
code = "jijian"
name = "纪检监察室"
name_en = "Discipline"
role = "discipline"

[[departments]]
code = "ducha"
name = "督察支队"
name_en = "Inspection"
role = "inspection"

[[leaders]]
id = "L1"
name = "局长甲"
title = "局长"
is_chief = true
duty_weekday = "wed"

[[leaders]]
id = "L2"
name = "政委乙"
title = "政委"
duty_weekday = "周一"

[[leaders]]
id = "L3"
name = "副局长丙"
title = "副局长"
duty_weekday = "Tuesday"

[[leaders]]
id = "L4"
name = "副局长丁"
title = "副局长"
duty_weekday = 4

[[leaders]]
id = "L5"
name = "副局长戊"
title = "副局长"
duty_weekday = "fri"

[[categories]]
code = "JY"
name = "建议意见"
name_en = "Suggestions"
kind = "suggestion"
  [[categories.children]]
  code = "JY01"
  name = "警务工作建议"
  name_en = "Police work"

[[categories]]
code = "JK"
name = "检举控告"
name_en = "Accusations"
kind = "accusation"
  [[categories.children]]
  code = "JK01"
  name = "民警违纪违法"
  name_en = "Officer misconduct"

[[categories]]
code = "SQ"
name = "申诉求决"
name_en = "Complaints and demands"
kind = "complaint_demand"
  [[categories.children]]
  code = "SQ01"
  name = "治安管理"
  name_en = "Public order"
    [[categories.children.children]]
    code = "SQ0101"
    name = "治安处罚异议"
    name_en = "Penalty objection"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "holidays").mkdir(exist_ok=True)
    path = tmp_path / "bureaus.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(*replacements: tuple[str, str]) -> str:
    text = MINIMAL
    for old, new in replacements:
        assert text.count(old) == 1, f"ambiguous edit {old!r}"
        text = text.replace(old, new)
    return text


def problems_of(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value.problems


# -- the demo --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> BureauConfig:
    return load_config(DEMO)


def test_the_demo_file_loads_with_24_sub_bureaus(demo: BureauConfig) -> None:
    assert demo.city.code == "3301"
    assert len(demo.sub_bureaus) == 24
    assert all(s.code.startswith("3301") and len(s.code) == 6 for s in demo.sub_bureaus)
    assert {s.kind for s in demo.sub_bureaus} == {"区", "县", "县级市"}
    assert all(s.head for s in demo.sub_bureaus)
    assert demo.collective_threshold == 5
    assert demo.calendar.holidays_dir == DEMO.parent / "holidays"
    assert demo.calendar.holidays_dir.is_absolute()


def test_the_demo_has_a_chief_receiving_on_wednesday_and_a_leader_every_weekday(
    demo: BureauConfig,
) -> None:
    assert 5 <= len(demo.leaders) <= 7
    assert demo.chief.duty_weekday is Weekday.WED
    for weekday in (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI):
        assert demo.leaders_on_duty(weekday)
    # 2026-02-25 is a Wednesday.
    assert demo.chief in demo.leaders_on_duty(date(2026, 2, 25))
    assert demo.leaders_on_duty(Weekday.SAT) == ()


def test_the_demo_has_the_four_fixed_departments(demo: BureauConfig) -> None:
    for role in (
        DepartmentRole.PETITION_OFFICE,
        DepartmentRole.LEGAL,
        DepartmentRole.DISCIPLINE,
        DepartmentRole.INSPECTION,
    ):
        assert demo.department_for(role).role is role
    assert demo.department("xinfang").name == "信访科"


def test_the_demo_categories(demo: BureauConfig) -> None:
    assert [(c.name, c.kind) for c in demo.categories] == [
        ("建议意见", CategoryKind.SUGGESTION),
        ("检举控告", CategoryKind.ACCUSATION),
        ("申诉求决", CategoryKind.COMPLAINT_DEMAND),
    ]
    names = {c.name for top in demo.categories for c in top.children}
    assert {"治安管理", "刑事案件办理", "交通管理", "户籍管理", "出入境管理", "警务督察"} <= names
    assert {"执法不公", "民警违纪违法", "涉黑涉恶线索", "警务工作建议"} <= names
    assert demo.category_kind("JK01") is CategoryKind.ACCUSATION
    assert demo.category("SQ0201").name == "不予立案"
    assert [c.code for c in demo.category_path("SQ0201")] == ["SQ", "SQ02", "SQ0201"]
    assert demo.category_kind("SQ") is CategoryKind.COMPLAINT_DEMAND


def test_bureau_lookups_and_coverage(demo: BureauConfig) -> None:
    sub = demo.sub_bureaus[0]
    assert demo.sub_bureau(sub.code) is sub
    assert demo.bureau_name("3301") == demo.city.name
    assert demo.bureau_name(sub.code) == sub.name
    other = demo.sub_bureaus[1].code
    assert demo.covers("3301", sub.code)
    assert demo.covers("3301", "3301")
    assert demo.covers(sub.code, sub.code)
    assert not demo.covers(sub.code, other)
    assert not demo.covers(sub.code, "3301")
    assert demo.covered_by(sub.code) == (sub.code,)
    assert demo.covered_by("3301") == demo.bureau_codes
    assert len(demo.bureau_codes) == 25


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.sub_bureau("3301"), "3301"),
        (lambda c: c.sub_bureau("339999"), "339999"),
        (lambda c: c.covers("3301", "339999"), "339999"),
        (lambda c: c.covers("330299", "330102"), "330299"),
        (lambda c: c.category("XX01"), "XX01"),
        (lambda c: c.department("nope"), "nope"),
        (lambda c: c.leader("L99"), "L99"),
    ],
)
def test_unknown_codes_raise_rather_than_answer(
    demo: BureauConfig, call: Callable[[BureauConfig], object], code: str
) -> None:
    with pytest.raises(UnknownCodeError, match=code):
        call(demo)


def test_collective_threshold(demo: BureauConfig) -> None:
    assert not demo.is_collective(4)
    assert demo.is_collective(5)


def test_the_configuration_is_frozen(demo: BureauConfig) -> None:
    with pytest.raises(ValidationError):
        # The assignment mypy refuses (a frozen model) is what this test makes at run time.
        demo.collective_threshold = 3  # type: ignore[misc]


# -- a valid minimal file --------------------------------------------------------------------


def test_minimal_file_loads_and_accepts_weekday_spellings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert [leader.duty_weekday for leader in config.leaders] == [
        Weekday.WED,
        Weekday.MON,
        Weekday.TUE,
        Weekday.THU,
        Weekday.FRI,
    ]
    assert config.calendar.holidays_dir == tmp_path / "holidays"


def test_threshold_defaults_to_five(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, edited(("collective_threshold = 5\n", ""))))
    assert config.collective_threshold == 5


# -- every fault, caught and named -----------------------------------------------------------

BAD_CASES = [
    pytest.param(
        edited(('code = "990121"', 'code = "990102"')),
        ["duplicate sub-bureau code '990102'", "东城分局", "西山县公安局"],
        id="duplicate-sub-bureau-code",
    ),
    pytest.param(
        edited(('name = "西山县公安局"', 'name = "东城分局"')),
        ["duplicate sub-bureau name '东城分局'"],
        id="duplicate-sub-bureau-name",
    ),
    pytest.param(
        edited(('code = "990121"', 'code = "880121"')),
        ["sub_bureaus[1] (880121 西山县公安局)", "must start with the city code 9901"],
        id="sub-bureau-outside-city",
    ),
    pytest.param(
        edited(('code = "990121"', 'code = "9901"')),
        ["sub_bureaus[1] (9901 西山县公安局)", "city bureau's own code"],
        id="sub-bureau-with-city-code",
    ),
    pytest.param(
        edited(('kind = "县"', 'kind = "镇"')),
        ["sub_bureaus[1] (990121 西山县公安局).kind", "not an allowed value"],
        id="bad-sub-bureau-kind",
    ),
    pytest.param(
        edited(('head = "乙局长"\n', "")),
        ["sub_bureaus[1] (990121 西山县公安局).head", "required field missing"],
        id="missing-head",
    ),
    pytest.param(
        edited(('code = "990102"', 'code = "99-01"')),
        ["sub_bureaus[0] (99-01 东城分局).code", "wrong format"],
        id="non-digit-bureau-code",
    ),
    pytest.param(
        edited(('head = "甲局长"', 'head = "甲局长"\nheadd = "x"')),
        ["sub_bureaus[0] (990102 东城分局).headd", "unknown field"],
        id="unknown-field",
    ),
    pytest.param(
        edited(("is_chief = true\n", "")),
        ["exactly one leader must have is_chief"],
        id="no-chief",
    ),
    pytest.param(
        edited(('title = "政委"', 'title = "政委"\nis_chief = true')),
        ["exactly one leader may have is_chief", "L1 局长甲", "L2 政委乙"],
        id="two-chiefs",
    ),
    pytest.param(
        edited(('duty_weekday = "wed"', 'duty_weekday = "thu"')),
        [
            "leaders[0] (L1 局长甲)",
            "the chief receives on Wednesdays",
            "no leader is on duty on Wed",
        ],
        id="chief-not-on-wednesday",
    ),
    pytest.param(
        edited(('duty_weekday = "fri"', 'duty_weekday = "sat"')),
        ["leaders[4] (L5 副局长戊).duty_weekday", "Monday to Friday"],
        id="weekend-duty-day",
    ),
    pytest.param(
        edited(('duty_weekday = "fri"\n', "")),
        ["leaders: 周五无局领导接访 no leader is on duty on Fri"],
        id="nobody-on-friday",
    ),
    pytest.param(
        edited(('id = "L2"', 'id = "L1"')),
        ["duplicate leader id 'L1'"],
        id="duplicate-leader-id",
    ),
    pytest.param(
        edited(('code = "ducha"', 'code = "fazhi"')),
        ["duplicate department code 'fazhi'"],
        id="duplicate-department-code",
    ),
    pytest.param(
        edited(('role = "inspection"', 'role = "other"')),
        ["no department has role 'inspection'", "督察部门"],
        id="missing-inspection-department",
    ),
    pytest.param(
        edited(('role = "discipline"', 'role = "legal"')),
        ["only one department may have role 'legal'", "no department has role 'discipline'"],
        id="two-legal-departments",
    ),
    pytest.param(
        edited(('kind = "accusation"', 'kind = "suggestion"')),
        [
            "top-level category 'accusation' is missing",
            "top-level category 'suggestion' appears more than once",
            "must be named 建议意见",
        ],
        id="missing-top-category",
    ),
    pytest.param(
        edited(('name = "申诉求决"', 'name = "申诉"')),
        ["categories[2] (SQ 申诉)", "must be named 申诉求决"],
        id="misnamed-top-category",
    ),
    pytest.param(
        edited(('code = "SQ0101"', 'code = "JY01"')),
        [
            "duplicate category code 'JY01'",
            "建议意见 > 警务工作建议",
            "申诉求决 > 治安管理 > 治安处罚异议",
        ],
        id="duplicate-category-code-across-levels",
    ),
    pytest.param(
        edited(('    name = "治安处罚异议"\n', "")),
        ["categories[2] (SQ 申诉求决).children[0] (SQ01 治安管理).children[0] (SQ0101).name"],
        id="nested-category-field-missing",
    ),
    pytest.param(
        edited(("collective_threshold = 5", "collective_threshold = 1")),
        ["collective_threshold", "at least 2"],
        id="threshold-too-low",
    ),
    pytest.param(
        edited(('holidays_dir = "holidays"', 'holidays_dir = "no-such-folder"')),
        ["calendar.holidays_dir", "holiday folder not found"],
        id="missing-holiday-folder",
    ),
    pytest.param(
        edited(('[calendar]\nholidays_dir = "holidays"\n', "")),
        ["calendar: 缺少必填项 required section missing"],
        id="missing-calendar-section",
    ),
    pytest.param(
        "surprise = 1\n" + MINIMAL,
        ["surprise: 不认识的配置项 unknown setting"],
        id="unknown-top-level-setting",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CASES)
def test_each_fault_is_caught_and_named(tmp_path: Path, text: str, expected: list[str]) -> None:
    problems = problems_of(tmp_path, text)
    joined = "\n".join(problems)
    for fragment in expected:
        assert fragment in joined, f"{fragment!r} not in:\n{joined}"


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    text = edited(
        ('code = "990121"', 'code = "880121"'),  # outside the city
        ('kind = "区"', 'kind = "乡"'),  # bad kind on the other sub-bureau
        ("is_chief = true\n", ""),  # no chief
        ('role = "legal"', 'role = "other"'),  # no legal department
        ('kind = "accusation"', 'kind = "suggestion"'),  # accusation class missing
        ("collective_threshold = 5", "collective_threshold = 0"),
    )
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    problems = caught.value.problems
    joined = "\n".join(problems)
    for fragment in (
        "880121",
        "sub_bureaus[0] (990102 东城分局).kind",
        "is_chief",
        "'legal'",
        "'accusation' is missing",
        "collective_threshold",
    ):
        assert fragment in joined, f"{fragment!r} not in:\n{joined}"
    # The message itself is readable on its own: a count, the file, then one line per problem.
    message = str(caught.value)
    assert f"configuration has {len(problems)} problem(s)" in message
    assert "bureaus.toml" in message
    assert message.count("\n  - ") == len(problems)


def test_absence_is_not_claimed_when_the_entry_that_may_hold_it_is_broken(
    tmp_path: Path,
) -> None:
    # The chief's entry is broken: "no chief" would send the operator looking for the wrong fault.
    text = edited(('duty_weekday = "wed"', 'duty_weekday = "someday"'))
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith("leaders[0] (L1 局长甲).duty_weekday")


def test_a_toml_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, MINIMAL + "\n[[leaders]\n")
    assert "TOML syntax error" in problems[0]


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_empty_sections_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"city": {"code": "9901", "name": "x", "name_en": "x"}, "sub_bureaus": []})
    joined = "\n".join(caught.value.problems)
    assert "sub_bureaus: 至少需要一项 at least one entry is required" in joined
    for section in ("departments", "leaders", "categories", "calendar"):
        assert f"{section}: 缺少必填项 required section missing" in joined


def test_building_the_model_directly_applies_the_same_rules(demo: BureauConfig) -> None:
    data = demo.model_dump()
    data["leaders"] = [{**leader, "is_chief": False} for leader in data["leaders"]]
    with pytest.raises(ValidationError, match="is_chief"):
        BureauConfig.model_validate(data)


# -- a sub-bureau's leaders (包案 at every level) -------------------------------------------

SUB_LEADERS = (
    'head = "甲局长"',
    'head = "甲局长"\nleaders = [\n'
    '  { id = "990102-head", name = "甲局长", title = "局长", is_chief = true, '
    'duty_weekday = "wed" },\n'
    '  { id = "990102-L2", name = "丙副局长", title = "副局长", duty_weekday = "mon" },\n]',
)


def test_a_sub_bureaus_leaders_are_looked_up_with_their_bureau(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, edited(SUB_LEADERS)))
    assert [x.id for x in config.leaders_of("990102")] == ["990102-head", "990102-L2"]
    assert config.leaders_of("990121") == ()
    assert config.leader("990102-L2").name == "丙副局长"
    assert config.leader_bureau("990102-L2") == "990102"
    assert config.leader_bureau("L1") == "9901"
    assert config.leaders_of("9901") == config.leaders
    # The city's roster is the city's leaders only: a sub-bureau's do not receive at the city.
    assert all(config.leader_bureau(x.id) == "9901" for x in config.leaders)
    with pytest.raises(UnknownCodeError):
        config.leader_bureau("990102-L9")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ('id = "990102-L2"', 'id = "L1"'),
            [
                "duplicate leader id 'L1'",
                "leaders[0]",
                "sub_bureaus[0] (990102 东城分局).leaders[1]",
            ],
            id="sub-bureau-leader-id-taken-by-a-city-leader",
        ),
        pytest.param(
            ('name = "甲局长", title = "局长"', 'name = "丁局长", title = "局长"'),
            ["the chief's name must be the sub-bureau's head"],
            id="head-and-chief-disagree",
        ),
        pytest.param(
            ('title = "副局长", duty', 'title = "副局长", is_chief = true, duty'),
            ["exactly one leader must have is_chief = true (got 2)"],
            id="two-heads",
        ),
        pytest.param(
            ('is_chief = true, duty_weekday = "wed"', 'is_chief = true, duty_weekday = "tue"'),
            ["the head receives on Wednesdays"],
            id="head-not-on-wednesday",
        ),
    ],
)
def test_a_sub_bureaus_leaders_are_checked(
    tmp_path: Path, change: tuple[str, str], expected: list[str]
) -> None:
    text = edited(SUB_LEADERS).replace(*change)
    joined = "\n".join(problems_of(tmp_path, text))
    for fragment in expected:
        assert fragment in joined, f"{fragment!r} not in:\n{joined}"
