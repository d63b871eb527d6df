"""The monthly analysis's breakdowns (分类分析): the month's submissions by statutory class and
sub-category, by channel and by skip-level destination, each beside the month before, and the
hot issues.

Definitions (each counted as the figures count submissions, 件次: submissions received in the
month, local dates, attributed to the bureau's scope by their case's sub-bureau; 人次 adds up their
head counts):

- **By category** (按问题分类): per statutory class (建议意见 / 检举控告 / 申诉求决: the top of the
  configured category tree), every class listed, zeros included.
- **By sub-category** (按问题子类): per second-level category (a deeper category counts under the
  second-level one above it; a case filed under a class alone counts as that class, "未细分 not
  subdivided"), those with a submission this month or the month before.
- **By channel** (按信访渠道): per channel of the submission (来访, 来信, 来电, 网上信访, 人大交办,
  上级转办), every channel listed.
- **Skip-level** (越级访): submissions recorded with an escalation, to the province (到省) or to
  Beijing (进京) — intake's ``escalation`` on the submission.
- **Hot issues** (热点问题): the sub-categories whose submissions grew most on the month before:
  increase = this month − the month before, only increases above zero, largest first (ties: more
  submissions this month, then the code), at most ``HOT_ISSUES``.

A category code no longer in the configuration shows as its code (its class as "其他 other")
rather than failing the whole analysis.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from petitions.bureaus import BureauConfig, UnknownCodeError

from reporting.queries.common import CHANNEL_ZH, ESCALATION_ZH, Db, attributed_to
from reporting.queries.models import BreakdownRow, Breakdowns, HotIssue
from reporting.queries.periods import Period, shift_months

HOT_ISSUES = 5

_CHANNEL_EN = {
    "visit": "visits",
    "letter": "letters",
    "phone": "calls",
    "online": "online",
    "congress_referral": "People's Congress referrals",
    "higher_referral": "referrals from above",
}
_ESCALATION_EN = {"province": "to the province", "beijing": "to Beijing"}

_COUNTS = """
    SELECT s.category, s.channel, s.escalation, count(*) AS submissions,
           sum(s.head_count) AS person_visits
    FROM submissions s
    WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
    GROUP BY 1, 2, 3
"""


@dataclass(frozen=True, slots=True)
class _Key:
    code: str
    label: str
    parent: str = ""


@dataclass(slots=True)
class _Tally:
    submissions: Counter[str]
    person_visits: Counter[str]

    @classmethod
    def empty(cls) -> _Tally:
        return cls(Counter(), Counter())

    def add(self, key: str, submissions: int, person_visits: int) -> None:
        self.submissions[key] += submissions
        self.person_visits[key] += person_visits


def _class_of(config: BureauConfig, code: str) -> _Key:
    try:
        top = config.category_path(code)[0]
    except UnknownCodeError:
        return _Key("?", "其他 other")
    return _Key(top.code, f"{top.name} {top.name_en}")


def _sub_category_of(config: BureauConfig, code: str) -> _Key:
    try:
        path = config.category_path(code)
    except UnknownCodeError:
        return _Key(code, code, "其他 other")
    top = path[0]
    parent = f"{top.name} {top.name_en}"
    if len(path) == 1:
        return _Key(top.code, f"{top.name}（未细分）{top.name_en} (not subdivided)", parent)
    return _Key(path[1].code, f"{path[1].name} {path[1].name_en}", parent)


async def _tallies(
    db: Db, config: BureauConfig, bureau: str, month: Period
) -> tuple[_Tally, _Tally, _Tally, _Tally, dict[str, _Key]]:
    rows = await db.fetch(_COUNTS, month.start, month.end, attributed_to(config, bureau))
    classes, subs, channels, escalations = (_Tally.empty() for _ in range(4))
    keys: dict[str, _Key] = {}
    for row in rows:
        n, people = int(row["submissions"]), int(row["person_visits"])
        top = _class_of(config, row["category"])
        sub = _sub_category_of(config, row["category"])
        keys[sub.code] = sub
        classes.add(top.code, n, people)
        subs.add(sub.code, n, people)
        channels.add(row["channel"], n, people)
        if row["escalation"] is not None:
            escalations.add(row["escalation"], n, people)
    return classes, subs, channels, escalations, keys


def _rows(keys: list[_Key], now: _Tally, before: _Tally) -> list[BreakdownRow]:
    total = sum(now.submissions.values())
    return [
        BreakdownRow(
            code=key.code,
            label=key.label,
            parent=key.parent,
            submissions=now.submissions[key.code],
            person_visits=now.person_visits[key.code],
            share=round(now.submissions[key.code] / total, 4) if total else None,
            previous_submissions=before.submissions[key.code],
            change=now.submissions[key.code] - before.submissions[key.code],
        )
        for key in keys
    ]


async def breakdowns(db: Db, config: BureauConfig, bureau: str, month: Period) -> Breakdowns:
    """The breakdowns of ``bureau``'s submissions in ``month`` (definitions: the module's)."""
    classes, subs, channels, escalations, keys = await _tallies(db, config, bureau, month)
    previous = shift_months(month, -1)
    p_classes, p_subs, p_channels, p_escalations, p_keys = await _tallies(
        db, config, bureau, previous
    )
    class_keys = [_Key(top.code, f"{top.name} {top.name_en}") for top in config.categories]
    if classes.submissions["?"] or p_classes.submissions["?"]:
        class_keys.append(_Key("?", "其他 other"))
    seen = {**p_keys, **keys}
    sub_keys = sorted(
        seen.values(),
        key=lambda k: (-subs.submissions[k.code], -p_subs.submissions[k.code], k.code),
    )
    by_sub_category = _rows(sub_keys, subs, p_subs)
    channel_codes = list(CHANNEL_ZH) + sorted(
        (set(channels.submissions) | set(p_channels.submissions)) - set(CHANNEL_ZH)
    )
    channel_keys = [
        _Key(code, f"{CHANNEL_ZH.get(code, code)} {_CHANNEL_EN.get(code, code)}")
        for code in channel_codes
    ]
    escalation_keys = [
        _Key(code, f"{ESCALATION_ZH[code]} {_ESCALATION_EN[code]}") for code in ESCALATION_ZH
    ]
    growing = sorted(
        (row for row in by_sub_category if row.change > 0),
        key=lambda row: (-row.change, -row.submissions, row.code),
    )
    return Breakdowns(
        submissions=sum(subs.submissions.values()),
        previous_submissions=sum(p_subs.submissions.values()),
        by_category=_rows(class_keys, classes, p_classes),
        by_sub_category=by_sub_category,
        by_channel=_rows(channel_keys, channels, p_channels),
        by_skip_level=_rows(escalation_keys, escalations, p_escalations),
        hot_issues=[
            HotIssue(
                code=row.code,
                label=row.label,
                parent=row.parent,
                submissions=row.submissions,
                previous_submissions=row.previous_submissions,
                increase=row.change,
                relative=(
                    round(row.change / row.previous_submissions, 4)
                    if row.previous_submissions
                    else None
                ),
            )
            for row in growing[:HOT_ISSUES]
        ],
    )
