"""Reading the case rows (lists, my work) and the import batches that hold the sweep back."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from petitions.identity import Principal, Role
from petitions.log import get_logger
from petitions.scope import normalise_party, reach

from assignment.application.core import CaseNotFound, WorkflowCore
from assignment.application.ports import CaseQuery, ImportBatch, MyWorkQuery
from assignment.domain.case import CLOSED as CLOSED_STATES
from assignment.domain.my_work import urgencies, working_days_left

log = get_logger(__name__)


class Lists(WorkflowCore):
    async def list_cases(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        unit: str | None = None,
        leader_owned: bool | None = None,
        overdue_on: date | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        query = CaseQuery(
            reach(principal, self._config),
            state=state,
            unit=unit,
            leader_owned=leader_owned,
            overdue_on=overdue_on,
            limit=limit,
            offset=offset,
        )
        return await self._cases.find(query)

    async def my_cases(
        self, principal: Principal, *, limit: int = 200, offset: int = 0
    ) -> list[dict[str, Any]]:
        """What ``principal`` must act on, overdue first, then by due date: a handler their own
        cases (officer = token subject), a unit head their unit's, a leader the cases they own
        (包案), the petition office every case in reach; only open ones, and always within the
        one scope rule, so the accused never see an accusation here either (Art. 30)."""
        today = self.today()
        query = MyWorkQuery(
            reach(principal, self._config),
            today,
            tuple(sorted(CLOSED_STATES)),
            limit=limit,
            offset=offset,
        )
        if principal.role is Role.SUB_BUREAU_HEAD:
            query = replace(query, unit=principal.department or principal.bureau)
        elif principal.role is Role.LEADER:
            query = replace(query, leader=principal.user)
        elif principal.role is not Role.PETITION_OFFICE:
            # Officers' ids are typed by people: compared as the scope rule compares them.
            query = replace(query, officer=normalise_party(principal.user))
        out = []
        for row in await self._cases.my_work(query):
            due = row["due"]
            left = None if due is None else working_days_left(self._calendar, today, due)
            row["working_days_left"] = left
            row["urgency"] = urgencies(
                today=today,
                due=due,
                left=left,
                sent_back=row["sent_back"],
                reminded=row["reminded"],
                supervised=row["supervised"],
            )
            out.append(row)
        return out

    # -- importing history -----------------------------------------------------------------

    async def open_import(self, principal: Principal, label: str) -> ImportBatch:
        """Open an import batch: until it is closed, the sweep leaves imported cases alone."""
        batch = await self._storage.batches.open(uuid.uuid4(), label, principal.user, self._clock())
        log.info("import.opened", batch=str(batch.batch_id))
        return batch

    async def close_import(self, batch_id: UUID, principal: Principal) -> ImportBatch:
        """Close a batch; once none is open, the next sweep judges the imported cases on their
        finished history. Closing one twice changes nothing."""
        now = self._clock()
        batch = await self._storage.batches.close(batch_id, principal.user, now)
        if batch is None:
            raise CaseNotFound("import_batch_not_found", "导入批次不存在 / no such import batch")
        if batch.closed_at == now:  # closed here, not before
            log.info("import.closed", batch=str(batch_id))
        return batch

    async def import_batches(self, *, open_only: bool = False) -> list[ImportBatch]:
        return await self._storage.batches.find(open_only=open_only)
