"""Intake's HTTP API: register submissions; let a petitioner look up their case's status; the
dossier; reference data; leader reception days. One router module per area, joined here in
the order the OpenAPI document lists them."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from petitions.http import install_refusals, install_validation_errors, invalid_response
from petitions.identity import Authenticator

from intake.application.attachments import Attachments
from intake.application.dossier import Dossier
from intake.application.notices import Notices
from intake.application.receipt import Receipts
from intake.application.reception import Reception
from intake.application.reference import Reference
from intake.application.register import InvalidCommand, Registrar
from intake.entrypoints.http import dossier as dossier_routes
from intake.entrypoints.http import reception as reception_routes
from intake.entrypoints.http import reference as reference_routes
from intake.entrypoints.http import registration


def install_errors(app: FastAPI) -> None:
    install_validation_errors(app)
    install_refusals(app)  # Refused and the others: {"error", "message"}

    @app.exception_handler(InvalidCommand)
    async def on_invalid_command(_: Request, exc: InvalidCommand) -> JSONResponse:
        return invalid_response([{"field": f, "message": m} for f, m in exc.problems])


def router(
    registrar: Callable[[], Registrar],
    reception: Callable[[], Reception],
    auth: Authenticator,
    dossier: Callable[[], Dossier],
    reference: Callable[[], Reference],
    notices: Callable[[], Notices],
    attachments: Callable[[], Attachments],
    receipts: Callable[[], Receipts],
    attachment_max_bytes: int = 20 * 1024 * 1024,
) -> APIRouter:
    api = APIRouter()
    api.include_router(registration.router(registrar, auth, dossier))
    api.include_router(
        dossier_routes.router(auth, dossier, notices, attachments, receipts, attachment_max_bytes)
    )
    api.include_router(reference_routes.router(auth, reference))
    api.include_router(reception_routes.router(auth, reception))
    return api


__all__ = ["install_errors", "router"]
