"""The demo's invented people and matters: surnames, given names, roads, resident ID numbers
with a valid check digit, and the complaints, suggestions and accusations petitioners bring.
None of it is anyone's real data."""

from __future__ import annotations

import random
from datetime import date, timedelta

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅海燕林"
ROADS = ("解放路", "中山路", "人民路", "建设路", "江滨路", "文化路", "新华路", "朝阳路")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

COMPLAINTS = (
    ("SQ0101", "反映邻里纠纷报警后处理不及时", "要求依法处理"),
    ("SQ0102", "对治安处罚决定不服", "要求撤销处罚"),
    ("SQ0201", "报案后公安机关不予立案", "要求立案侦查"),
    ("SQ01", "反映小区周边夜间噪音扰民", "要求加强管理"),
    ("SQ02", "反映案件办理进度缓慢", "要求尽快办结"),
)
SUGGESTIONS = (
    ("JY03", "建议延长户籍窗口周末服务时间", "改进服务"),
    ("JY04", "建议优化学校周边交通组织", "增设护学岗"),
    ("JY05", "建议增加夜间巡逻", "加强治安防控"),
)
ACCUSATIONS = (
    ("JK01", "检举民警执法中态度粗暴", "要求调查处理"),
    ("JK02", "反映辅警违规收费", "要求查处"),
    ("JK03", "反映值班人员接警后未出警", "要求追责"),
)
BASIS = "《信访工作条例》第三十二条及相关法律法规"
DELIVERY = {"method": "in_person", "receipt": "信访人签收送达回证"}


def resident_id(rng: random.Random, region: str) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]
