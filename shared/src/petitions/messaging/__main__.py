"""Operator commands for messaging.

    python -m petitions.messaging dead-letters [--consumer NAME] [--all]
    python -m petitions.messaging replay ID --consumer NAME --handler MODULE:FUNCTION
    python -m petitions.messaging relay-status
    python -m petitions.messaging resolve-relay EVENT_ID
    python -m petitions.messaging provision [--ack-wait NAME=SECONDS ...]
    python -m petitions.messaging nats-config

``provision`` creates the JetStream stream and every service's durable consumer, as the NATS
operator (PETITIONS_NATS_URL, PETITIONS_NATS_USER=petitions-admin, PETITIONS_NATS_PASSWORD); run it
at each deployment start. ``nats-config`` prints the server's identities and permissions
(deploy/nats/auth.conf is its output), with passwords read from the server's environment.

``dead-letters`` lists the consumers' dead letters and, in the event store's database, the
relay's (``--consumer relay``): events NATS refused for good, and events whose id another
publisher had used first. ``resolve-relay`` marks the relay's records of an event as dealt with.

The database is --database, else PETITIONS_DATABASE_URL, else (run from the project folder while
``make up`` runs) devstack's; exit 3 with one line when it cannot be reached. Replaying runs the
consumer's own handler (named by its import path, e.g. ``reporting.projections:apply``) on the
dead letter's event, in the same transactional way as the consumer would, then marks it replayed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

import asyncpg

from petitions.db import CONNECTION_ERRORS, create_pool
from petitions.eventstore import EventStore, load_cursor
from petitions.log import LOG_TIME_ZONE
from petitions.messaging.consumer import Consumer, list_dead_letters
from petitions.messaging.lease import lease_state
from petitions.messaging.provision import provision
from petitions.messaging.relay import CURSOR_NAME, RELAY, list_relay_incidents
from petitions.messaging.security import render_config
from petitions.operator import failed, operator_settings
from petitions.settings import CommonSettings

EXIT_UNREACHABLE = 3
"""The database could not be reached (1: dead letters wait / no relay active; 2: not found)."""


async def _dead_letters(dsn: str, consumer: str | None, include_replayed: bool) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        # A database holds the consumers' tables, the event store's, or both.
        letters = (
            await list_dead_letters(conn, consumer, include_replayed=include_replayed)
            if await _exists(conn, "messaging.dead_letters") and consumer != RELAY
            else []
        )
        incidents = (
            await list_relay_incidents(conn, include_resolved=include_replayed)
            if await _exists(conn, "eventstore.relay_incidents") and consumer in (None, RELAY)
            else []
        )
    finally:
        await conn.close()
    if not letters and not incidents:
        print("没有死信 no dead letters")
        return 0
    for i in incidents:
        resolved = f"  (resolved {i.resolved_at:%Y-%m-%d %H:%M})" if i.resolved_at else ""
        print(
            f"{'relay':>6}  {i.kind:20} {i.stream_id:42} {i.version:>4} {i.size:>7} B  "
            f"{i.seen_at:%Y-%m-%d %H:%M:%S}{resolved}\n{'':8}{i.event_id} {i.event_type}: "
            f"{i.error}"
        )
    if not letters:
        return 1
    print(f"{'id':>6}  {'consumer':20} {'case':42} {'ver':>4} {'tries':>5}  failed at / error")
    for d in letters:
        replayed = f"  (replayed {d.replayed_at:%Y-%m-%d %H:%M})" if d.replayed_at else ""
        print(
            f"{d.id:>6}  {d.consumer:20} {d.stream_id:42} {d.version:>4} {d.deliveries:>5}  "
            f"{d.failed_at:%Y-%m-%d %H:%M:%S}{replayed}\n{'':8}{d.event_type}: {d.error}"
        )
    return 1


async def _replay(dsn: str, letter: int, consumer: str, handler_path: str) -> int:
    module_name, _, attribute = handler_path.partition(":")
    handler = getattr(importlib.import_module(module_name), attribute)
    settings = CommonSettings(database_url=dsn)
    pool = await create_pool(settings)
    try:
        store = EventStore(pool)
        runner = Consumer(
            name=consumer, handler=handler, pool=pool, store=store, nats_url=settings.nats()
        )
        try:
            await runner.replay(letter)
        except LookupError as exc:
            print(exc)
            return 2
        except Exception as exc:  # the handler's own failure: show it, keep the dead letter
            print(f"重放失败，死信保留 replay failed, the dead letter stays: {exc!r}")
            return 1
    finally:
        await pool.close()
    print(f"已重放 replayed dead letter {letter} for {consumer}")
    return 0


async def _relay_status(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        cursor = await load_cursor(conn, CURSOR_NAME)
        behind = await conn.fetchval(
            "SELECT count(*) FROM eventstore.events WHERE (tx_id, position) > ($1::text::xid8, $2)",
            str(cursor.tx_id),
            cursor.position,
        )
        lease = await lease_state(conn)
        incidents = await list_relay_incidents(conn)
    finally:
        await conn.close()
    print(f"中继游标 relay cursor {cursor}; 待发布 events not yet published: {behind}")
    unpublishable = sum(1 for i in incidents if i.kind == "unpublishable")
    preempted = len(incidents) - unpublishable
    print(
        f"无法发布（已跳过）unpublishable, skipped: {unpublishable}; "
        f"被抢先发布 ids published first by someone else: {preempted}"
        + ("  (see dead-letters --consumer relay)" if incidents else "")
    )
    if lease is None:
        print("没有活动中继 NO relay is active: none has ever held the lease")
        return 1
    expires = lease.expires_at.astimezone(LOG_TIME_ZONE).isoformat(timespec="milliseconds")
    since = lease.acquired_at.astimezone(LOG_TIME_ZONE).isoformat(timespec="seconds")
    if lease.held:
        print(
            f"有活动中继 a relay is active: {lease.holder}, 租约纪元 epoch {lease.epoch}, "
            f"held since {since}, 到期 expires {expires} (in {lease.remaining:.1f} s unless "
            "renewed)"
        )
        return 0
    print(
        f"没有活动中继 NO relay is active: the lease (epoch {lease.epoch}, last {lease.holder}) "
        f"ran out at {expires}, {-lease.remaining:.1f} s ago; a standby that reaches NATS takes "
        "it within a second: check that a service with PETITIONS_RUN_RELAY runs and reaches NATS"
    )
    return 1


async def _exists(conn: asyncpg.Connection, table: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


async def _resolve_relay(dsn: str, event_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        done = await conn.fetchval(
            "WITH r AS (UPDATE eventstore.relay_incidents SET resolved_at = now() "
            "WHERE event_id = $1::uuid AND resolved_at IS NULL RETURNING 1) "
            "SELECT count(*) FROM r",
            event_id,
        )
    finally:
        await conn.close()
    if not done:
        print(f"没有未处理的中继记录 no open relay record for event {event_id}")
        return 2
    print(f"已处理 resolved the relay's records of event {event_id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m petitions.messaging")
    parser.add_argument("--database", help="PostgreSQL URL (default PETITIONS_DATABASE_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    dead = commands.add_parser("dead-letters", help="list dead letters (exit 1 if any)")
    dead.add_argument("--consumer", help="only this consumer's")
    dead.add_argument("--all", action="store_true", help="include replayed ones")
    replay = commands.add_parser("replay", help="apply a dead letter's event again")
    replay.add_argument("id", type=int)
    replay.add_argument("--consumer", required=True)
    replay.add_argument("--handler", required=True, help="MODULE:FUNCTION of the consumer")
    commands.add_parser("relay-status", help="how far behind the relay is, and whether one runs")
    resolve = commands.add_parser(
        "resolve-relay", help="mark the relay's records of an event dealt with"
    )
    resolve.add_argument("event_id")
    prov = commands.add_parser("provision", help="create the stream and durables (operator)")
    prov.add_argument(
        "--ack-wait",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="a durable's ack wait, where not 30 s (reporting: PETITIONS_REPORTING_ACK_WAIT)",
    )
    prov.add_argument(
        "--replicas",
        type=int,
        default=1,
        choices=(1, 3, 5),
        help="copies of each message on a JetStream cluster (3 on a 3-node cluster)",
    )
    commands.add_parser("nats-config", help="print the NATS identities' server config")
    args = parser.parse_args(argv)
    if args.command == "nats-config":
        print(render_config(), end="")
        return 0
    if args.command == "provision":
        try:
            waits = {k: float(v) for k, _, v in (a.partition("=") for a in args.ack_wait)}
        except ValueError:
            print("--ack-wait 应为 NAME=SECONDS, e.g. reporting=30")
            return 2
        asyncio.run(provision(CommonSettings().nats(), ack_wait=waits, replicas=args.replicas))
        print("已创建 stream and durable consumers provisioned")
        return 0
    if args.database:
        dsn, source = args.database, "--database"
    else:
        settings, source = operator_settings(CommonSettings)
        dsn = settings.database_url
    try:
        if args.command == "dead-letters":
            return asyncio.run(_dead_letters(dsn, args.consumer, args.all))
        if args.command == "replay":
            return asyncio.run(_replay(dsn, args.id, args.consumer, args.handler))
        if args.command == "resolve-relay":
            return asyncio.run(_resolve_relay(dsn, args.event_id))
        return asyncio.run(_relay_status(dsn))
    except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
        # One line, not asyncpg's traceback: what failed, where the URL came from, what to do.
        print(failed(("事件库", "the event store"), dsn, source, exc), file=sys.stderr)
        return EXIT_UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
