"""intake composition root: the one place where the service's parts are built and wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import FastAPI
from petitions.clock import Clock, utc_now
from petitions.http import (
    asyncapi_router,
    health_router,
    install_correlation_ids,
    install_dependency_errors,
    install_input_guards,
    install_offline_docs,
    serve,
)
from petitions.identity import authenticate, install_auth_errors, verifier_from_settings
from petitions.metrics import install_metrics
from petitions.runtime import Runtime, StartupError, migrate_schema, open_runtime, tune_gc

from intake.adapters.postgres import (
    PostgresAttachmentStorage,
    PostgresDossierStorage,
    PostgresReceptionStorage,
    PostgresRegistrationStorage,
)
from intake.application.attachments import Attachments
from intake.application.dossier import Dossier
from intake.application.notices import Notices
from intake.application.receipt import Receipts
from intake.application.reception import Reception
from intake.application.reference import Reference
from intake.application.register import Registrar
from intake.asyncapi import spec
from intake.config import Settings
from intake.entrypoints.http import install_errors, router
from intake.entrypoints.uploads import UploadLimit

SERVICE = "intake"
MIGRATIONS = [("intake", "intake.migrations")]


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or Settings()
    config, calendar = settings.load_bureaus()
    verifier = verifier_from_settings(settings)
    holder: dict[str, object] = {}
    reference = Reference(config, calendar)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(SERVICE, settings, migrations=MIGRATIONS, clock=clock) as runtime:
            if runtime.personal is None or runtime.personal.index is None:
                raise StartupError(
                    "登记需要个人信息密钥 intake needs PETITIONS_KEK and PETITIONS_BLIND_INDEX_KEY "
                    "(python -m petitions.personal prints new ones)"
                )
            holder["runtime"] = runtime
            holder["registrar"] = Registrar(
                PostgresRegistrationStorage(runtime.store),
                runtime.personal.index,
                config,
                clock=clock,
            )
            holder["reception"] = Reception(
                PostgresReceptionStorage(runtime.store), config, calendar, clock=clock
            )
            dossier = Dossier(PostgresDossierStorage(runtime.store), config, runtime.personal.index)
            holder["dossier"] = dossier
            runtime.count(
                "petitions_personal_data_reads",
                "Case files read with personal data in the clear (each read is recorded)",
                lambda: dossier.reads,
            )
            holder["notices"] = Notices(
                _get(holder, "dossier", Dossier), settings.templates_dir(), clock=clock
            )
            holder["attachments"] = Attachments(
                dossier,
                runtime.personal.keys,
                PostgresAttachmentStorage(runtime.store, runtime.personal.keys),
                max_bytes=settings.attachment_max_bytes,
            )
            holder["receipts"] = Receipts(
                dossier,
                runtime.personal.index,
                settings.templates_dir() / "receipt.docx",
                lookup=settings.receipt_lookup,
                clock=clock,
            )
            runtime.count(
                "petitions_attachments_added",
                "Attachments stored (sealed with the person's key)",
                lambda: _get(holder, "attachments", Attachments).added,
            )
            yield

    app = FastAPI(
        title="受理登记 Intake",
        description=(
            "登记每一次来访、来信、来电、网上信访和交办转办件，识别重复信访。 Registers every "
            "submission and spots repeats on the same matter."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    install_correlation_ids(app)
    install_input_guards(app)
    # Outside the input guards: an oversized upload is refused before anything reads it.
    app.add_middleware(UploadLimit, max_file_bytes=settings.attachment_max_bytes)
    install_offline_docs(app)
    install_auth_errors(app)
    install_errors(app)
    install_dependency_errors(app)
    app.include_router(asyncapi_router(spec))
    app.include_router(health_router(lambda: _get(holder, "runtime", Runtime)))
    install_metrics(app, lambda: _get(holder, "runtime", Runtime))
    app.include_router(
        router(
            lambda: _get(holder, "registrar", Registrar),
            lambda: _get(holder, "reception", Reception),
            authenticate(lambda: verifier),
            lambda: _get(holder, "dossier", Dossier),
            lambda: reference,
            lambda: _get(holder, "notices", Notices),
            lambda: _get(holder, "attachments", Attachments),
            lambda: _get(holder, "receipts", Receipts),
            attachment_max_bytes=settings.attachment_max_bytes,
        )
    )
    return app


T = TypeVar("T")


def _get(holder: dict[str, object], key: str, kind: type[T]) -> T:
    value = holder[key]
    assert isinstance(value, kind)
    return value


async def migrate(
    database_url: str, *, role: str | None = None, reporting_database_url: str | None = None
) -> list[str]:
    """This service's part of the deployment's migration step (``python -m petitions.migrate``
    runs it as the tables' owner): the event store's schema and the service's own. ``role`` and
    ``reporting_database_url`` concern reporting only."""
    return await migrate_schema(database_url, MIGRATIONS)


def run() -> None:
    tune_gc()
    settings = Settings()
    serve(SERVICE, lambda: create_app(settings), settings, settings.port)
