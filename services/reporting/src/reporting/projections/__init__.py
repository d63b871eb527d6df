"""The reporting read models (projections): a pure fold of the events (:mod:`.projector`), kept
up to date live by the durable consumer ``reporting`` (:mod:`.live`), and rebuilt from the event
store and swapped in without downtime (:mod:`.rebuild`). Tables: ``schema.sql``."""

from reporting.projections.live import CONSUMER, project, projection_consumer
from reporting.projections.projector import ERASED, Changes, Projector, needs
from reporting.projections.rebuild import RebuildResult, rebuild
from reporting.projections.tables import SCHEMA, create_read_pool, migrate

__all__ = [
    "CONSUMER",
    "ERASED",
    "SCHEMA",
    "Changes",
    "Projector",
    "RebuildResult",
    "create_read_pool",
    "migrate",
    "needs",
    "project",
    "projection_consumer",
    "rebuild",
]
