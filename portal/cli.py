"""The `portal` command. Each command builds what it needs from settings; nothing happens at import."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session

import portal.models  # noqa: F401 - registers every table, so foreign keys across domains resolve
from portal.accounts.access import system_clock
from portal.db import Database
from portal.settings import Settings, SettingsError
from portal.text import DEFAULT_SOCIETY_NAME


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _database(settings: Settings) -> Database:
    """A database for one command, whose sessions key the audit chain (see portal/audit.py)."""
    from portal import audit as audit_log

    return Database(
        settings.database_url, null_pool=True, audit_key=audit_log.chain_key(settings.key_bytes())
    )


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One transaction for one command: all of it is written, or none."""
    database = _database(settings)
    try:
        with database.session(write=True) as session:
            yield session
    finally:
        database.dispose()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The IPT UK portal: conference registration, National Meeting sign-ups, elections."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal over HTTP (put a TLS proxy in front in production)."""
    import uvicorn

    settings = load_settings()
    if settings.is_sqlite and workers > 1:
        raise click.ClickException(
            "SQLite runs with one worker (several processes writing one file only add lock waits). "
            "Use PostgreSQL (PORTAL_DATABASE_URL=postgresql://...) for more workers."
        )
    if settings.production:
        # The same checks as `portal check`: production does not start with anything that must be fixed.
        failures = [f for f in _findings(settings, workers) if f.level == "fail"]
        if failures:
            for finding in failures:
                click.echo(f"FAIL  {finding.message}", err=True)
            click.echo("Refusing to start in production: fix the above (see `portal check`).", err=True)
            raise SystemExit(1)
    configure_logging(settings.log_level)
    _announce_setup_code(settings)
    click.echo(
        f"Serving {settings.base_url} on http://{host}:{port} with {workers} worker(s) ({settings.env}).",
        err=True,
    )
    uvicorn.run(
        "portal.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )


def _findings(settings: Settings, workers: int) -> list[Any]:
    from portal import ops

    database = _database(settings)
    try:
        return ops.check(settings, workers=workers, database=database)
    finally:
        database.dispose()


def _announce_setup_code(settings: Settings) -> None:
    """On an empty portal, print a fresh one-time code that opens the first-run setup page (only its digest
    is stored), so nobody who merely reaches the address first can claim the portal."""
    from sqlalchemy.exc import DBAPIError

    from portal.accounts import service
    from portal.society.service import is_set_up

    database = _database(settings)
    try:
        with database.session(write=True) as session:
            if is_set_up(session):
                return
            code = service.issue_setup_code(session, now=system_clock(), key=settings.key_bytes())
    except DBAPIError:
        click.echo("The database has no schema yet: run `portal db upgrade`, then start again.", err=True)
        return
    finally:
        database.dispose()
    click.echo(
        f"First-run setup: open {settings.base_url}/setup and enter the setup code {code} "
        "(it works once, for 24 hours; each start prints a new one).",
        err=True,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to the latest version."""
    from portal import migrate

    settings = load_settings()
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    before, after = migrate.upgrade(settings.database_url, revision)
    placed = 0
    if revision == "heads":
        # What a fresh install's site needs to have pages at all (idempotent: nothing is changed once made).
        from portal.accreditation import service as accreditation
        from portal.app import search_sources
        from portal.search import service as search
        from portal.site.seed import seed_site
        from portal.team import service as team
        from portal.training import service as training

        with transaction(settings) as session:
            # Asked before anything below is placed (placing a course indexes it): a database from before search,
            # or one whose index was emptied, gets its index made once, from everything.
            unindexed = search.is_empty(session)
            team.ensure_defaults(session, now=system_clock())
            # The society's six courses, which the menu's training entries lead to, while there are none.
            training.ensure_courses(session, now=system_clock())
            # The five levels of accreditation (naming those courses), which Accreditation Standards lists.
            accreditation.ensure_levels(session, now=system_clock())
            # The captured site's menu of placeholder pages, while the site has none.
            placed = seed_site(session, now=system_clock())
            if unindexed:
                search.rebuild(session, search_sources())
    where = settings.database_url.split("///", 1)[-1] if settings.is_sqlite else "the database"
    if not before:
        click.echo(f"Created the database schema in {where} (revision {', '.join(sorted(after))}).")
    elif before != after:
        click.echo(
            f"Migrated the database schema from revision {', '.join(sorted(before))} "
            f"to {', '.join(sorted(after))}."
        )
    else:
        click.echo(f"The database schema is already up to date (revision {', '.join(sorted(after))}).")
    if revision == "heads" and placed:
        click.echo(f"The website's menu is placed: {placed} pages, each saying what to write in it.")


@main.group()
def search() -> None:
    """The site's search index."""


#: What the index holds, one and many, for `portal search rebuild`'s summary.
_NOUNS = {
    "page": ("page", "pages"),
    "event": ("event", "events"),
    "news": ("news post", "news posts"),
    "course": ("course", "courses"),
}


@search.command("rebuild")
def search_rebuild() -> None:
    """Make the search index afresh from every published page and public event (the rooms keep it in step as
    things are saved; this is for after a restore, or an index made by an older version)."""
    from portal.app import search_sources
    from portal.search import service

    with transaction(load_settings()) as session:
        counts = service.rebuild(session, search_sources())
    click.echo(
        "The search index is rebuilt: "
        + ", ".join(
            f"{n} {_NOUNS.get(kind, (kind, kind + 's'))[0 if n == 1 else 1]}" for kind, n in counts.items()
        )
        + "."
    )


@main.group()
def admin() -> None:
    """Administrator accounts."""


@admin.command("create")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option(
    "--society", default=DEFAULT_SOCIETY_NAME, show_default=True, help="The society's name, on first setup."
)
@click.password_option(confirmation_prompt=True)
def admin_create(email: str, name: str, society: str, password: str) -> None:
    """Create an administrator (on an empty portal this is the first-run setup)."""
    from portal import audit
    from portal.accounts import service
    from portal.accounts.passwords import Passwords
    from portal.society.service import is_set_up
    from portal.web.forms import FormReader

    form = FormReader({"email": email, "name": name, "password": password})
    form.email()
    form.text("name", label="a name")
    form.password(new=True)
    if not form.ok:
        raise click.ClickException(" ".join(form.errors.values()))
    settings = load_settings()
    passwords = Passwords(fast=settings.env == "test")
    now = system_clock()
    with transaction(settings) as session:
        try:
            if not is_set_up(session):
                service.setup_first_admin(
                    session,
                    society_name=society,
                    name=name,
                    email=email,
                    password=password,
                    passwords=passwords,
                    now=now,
                )
            else:
                account, _ = service.create_staff(
                    session,
                    actor=None,
                    name=name,
                    email=email,
                    roles=["admin"],
                    now=now,
                    key=settings.key_bytes(),
                )
                account.password_hash = passwords.hash(password)
                audit.record(session, actor=None, action="cli.admin_create", subject=account.email, now=now)
        except service.AccountError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Administrator {email.lower()} created.")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exits 1 if any entry was changed, added or removed."""
    from portal import audit as audit_log

    settings = load_settings()
    with transaction(settings) as session:
        problems = audit_log.verify(session, key=settings.key_bytes())
        total = session.query(audit_log.AuditEvent).count()
    if problems:
        for problem in problems:
            click.echo(f"entry {problem.entry_id}: {problem.problem}")
        raise SystemExit(1)
    click.echo(f"The audit log is intact ({total} entries).")


@audit.command("rekey")
def audit_rekey() -> None:
    """Once, after upgrading to the keyed chain: re-hash a log written under the old plain SHA-256 chain.
    Refuses (exit 1, nothing changed) unless the old chain holds in full."""
    from portal import audit as audit_log

    settings = load_settings()
    try:
        with transaction(settings) as session:
            done = audit_log.rekey(session, key=settings.key_bytes())
            if done:
                audit_log.record(
                    session, actor=None, action="audit.rekeyed", details={"entries": done}, now=system_clock()
                )
    except ValueError as exc:
        click.echo(str(exc))
        raise SystemExit(1) from None
    click.echo(f"Re-keyed {done} entries." if done else "The audit log is already keyed; nothing to do.")


@main.command("check")
@click.option("--workers", default=1, show_default=True, type=int, help="How many workers you plan to run.")
def check_command(workers: int) -> None:
    """Print what is unsafe or missing for production; exits 1 if anything must be fixed."""
    settings = load_settings()
    findings = _findings(settings, workers)
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        click.echo(f"{marks[finding.level]}  {finding.message}")
    if any(f.level == "fail" for f in findings):
        raise SystemExit(1)


@main.command("purge")
def purge_command() -> None:
    """Delete what is kept past its retention (login attempts, ended logins, used links, throttle records, old
    sent e-mails: see the README's Privacy section), once. The app also does it every hour."""
    from portal import ops

    settings = load_settings()
    database = _database(settings)
    try:
        removed = ops.purge(database, settings, now=system_clock())
    finally:
        database.dispose()
    for table, count in removed.items():
        click.echo(f"{table}: {count} removed")


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Back up the database to FILE (SQLite online backup; PostgreSQL with pg_dump)."""
    from portal import ops

    settings = load_settings()
    try:
        ops.backup(settings.database_url, file)
    except ops.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up to {file} ({file.stat().st_size:,} bytes).")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database's contents with the backup in FILE. Stop the portal first."""
    from portal import ops

    settings = load_settings()
    if not yes:
        click.confirm(f"Replace everything in the database with {file}?", abort=True)
    try:
        ops.restore(settings.database_url, file)
    except ops.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored from {file}.")


@main.group()
def mail() -> None:
    """The e-mail outbox."""


@mail.command("send-pending")
def mail_send_pending() -> None:
    """Send every e-mail that is due now, once (what fails is rescheduled), then stop."""
    from portal.app import attachment_sources
    from portal.mail.sender import Sender

    settings = load_settings()
    configure_logging(settings.log_level)
    database = _database(settings)
    try:
        sender = Sender(database, settings, clock=system_clock, sources=attachment_sources(settings))
        outcomes = sender.drain()
    finally:
        database.dispose()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
    click.echo(f"Outbox: {summary or 'nothing was due'}.")


@main.group()
def members() -> None:
    """The membership roll."""


@members.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change, and change nothing.")
@click.option("--lapse-missing", is_flag=True, help="Mark active members who are not in the file as lapsed.")
def members_import(file: Path, dry_run: bool, lapse_missing: bool) -> None:
    """Import the roll from the office's CSV export (docs/members-import.md): all of it, or nothing."""
    from portal.members import importer

    settings = load_settings()
    content = file.read_bytes()
    with transaction(settings) as session:
        plan = importer.plan_import(session, content=content, filename=file.name)
        for line in importer.describe(plan):
            click.echo(line)
        if not plan.ok:
            raise click.ClickException("Nothing was imported: fix the problems above and try again.")
        if dry_run:
            click.echo("Dry run: nothing was changed.")
            return
        _, result = importer.apply_import(
            session,
            content=content,
            filename=file.name,
            actor=None,
            lapse_missing=lapse_missing,
            now=system_clock(),
            actor_label="portal members import (command line)",
        )
    click.echo(
        f"Imported: {result.added} new, {result.changed} changed, {result.unchanged} unchanged, "
        f"{result.lapsed} marked lapsed."
    )


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 date and time; without an offset it is UK time (as the portal's forms read times)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date and time, e.g. 2026-03-18T14:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Europe/London"))
    return moment.astimezone(UTC)


@main.command("demo")
@click.option(
    "--now",
    callback=_moment,
    metavar="DATETIME",
    help="The moment the demo takes as the present (ISO 8601, UK time unless it has an offset); every step "
    "is placed relative to it. Default: the wall clock. The portal itself serves on the wall clock.",
)
def demo_command(now: datetime | None) -> None:
    """Load a demo society into an empty database (IPT UK: 300 members, a conference, the National Meeting, a
    skills day on today, an election in its voting period and last year's results) and print the demo logins.
    Refused once the portal is set up."""
    from portal import demo
    from portal.accounts.passwords import Passwords

    settings = load_settings()
    click.echo("Loading the demo society: this takes a few seconds...", err=True)
    try:
        with transaction(settings) as session:
            report = demo.load_demo(
                session,
                now=now or system_clock(),
                key=settings.key_bytes(),
                base_url=settings.base_url,
                passwords=Passwords(fast=settings.env == "test"),
            )
    except demo.DemoError as exc:
        raise click.ClickException(exc.message) from None
    # The demo trustees' shares, as each trustee would have downloaded them (only a demo keeps them together).
    shares_dir = Path(os.environ.get("PORTAL_DEMO_SHARES_DIR", "var/demo-shares"))
    shares_dir.mkdir(parents=True, exist_ok=True)
    for filename, text in report.shares:
        (shares_dir / filename).write_text(text, encoding="utf-8")
    report = dataclasses.replace(report, shares_dir=str(shares_dir))
    for line in report.lines():
        click.echo(line)


@main.command("count")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rule", type=click.Choice(["scottish", "ers97"]), default="scottish", show_default=True)
@click.option(
    "--seed", type=int, default=None, help="Seed for any lot (recorded in the output; repeat it to recount)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the full count record as JSON.")
def count_command(file: Path, rule: str, seed: int | None, as_json: bool) -> None:
    """Count any BLT file with STV, stage by stage (independent of the portal's database)."""
    import json as json_module

    from portal.elections import counting

    try:
        contest = counting.load_blt(file)
    except counting.BltError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    method: counting.Method = "scottish-stv" if rule == "scottish" else "ers97-stv"
    result = counting.count(contest, method, seed=seed)
    if as_json:
        click.echo(json_module.dumps(result.as_dict(), indent=1, ensure_ascii=False))
        return
    click.echo(
        f"{contest.title or file.name}: {contest.seats} seat(s), {result.valid_ballots:,} valid ballots"
    )
    for sentence in counting.explain(result):
        click.echo(f"  {sentence}")
    click.echo("Elected, in order: " + "; ".join(c.name.strip() for c in result.winners))
    click.echo(f"Seed for any lot: {result.seed} (pass --seed {result.seed} to repeat this count exactly).")


@main.group()
def election() -> None:
    """Executive Committee elections."""


@election.command("remind")
def election_remind() -> None:
    """Do what the clock has made due: freeze rolls (e-mailing ballot links) once voting opens, send the
    scheduled reminders to members who have not voted, and close voting at its close time (the ballots stay
    sealed until the trustees give their shares: `portal election decrypt`). Safe to run as often as you
    like (each step happens once), e.g. hourly from cron."""
    from starlette.routing import Router

    from portal.app import build_routes
    from portal.elections.links import Links
    from portal.elections.reminders import run_due

    settings = load_settings()
    configure_logging(settings.log_level)
    links = Links(settings.base_url, Router(routes=build_routes()).url_path_for)
    database = _database(settings)
    try:
        done = run_due(database, now=system_clock(), key=settings.key_bytes(), links=links)
    finally:
        database.dispose()
    click.echo(f"Elections brought up to date: {done['updated']}. Reminders sent: {done['reminders']}.")


@election.command("tally")
@click.argument("election_id", metavar="ELECTION", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print every post's full count record as JSON.")
def election_tally(election_id: int, as_json: bool) -> None:
    """Count the stored ballots of ELECTION (its id), post by post in counting order, and compare with the
    returning officer's stored count (the same seed, so the same result as the results page). Changes
    nothing. Refused before the close; exits 1 if the stored count differs."""
    import json as json_module

    from portal.elections import results
    from portal.elections.errors import ElectionError

    settings = load_settings()
    with transaction(settings) as session:
        try:
            found = results.tally(session, election_id=election_id, now=system_clock())
        except ElectionError as exc:
            raise click.ClickException(exc.message) from None
        election = session.get(results.Election, election_id)
        assert election is not None
        title, fingerprint, ballots = election.title, election.ballots_hash, election.ballots_total
    if as_json:
        body = {
            "election": election_id,
            "title": title,
            "ballots": ballots,
            "ballots_hash": fingerprint,
            "seed": found.seed,
            "matches_stored": found.matches_stored,
            "posts": found.records,
        }
        click.echo(json_module.dumps(body, indent=1, ensure_ascii=False))
    else:
        click.echo(f"{title}: {ballots} ballots, fingerprint {fingerprint}")
        for position, record in enumerate(found.records, start=1):
            click.echo(
                f"{position}. {record['title']} ({record['seats']} seat(s), {record['rule'] or record['outcome']})"
            )
            for sentence in record["explanation"]:
                click.echo(f"   {sentence}")
        origin = "the stored count's seed" if found.stored_seed else "drawn for this tally only"
        click.echo(f"Seed for any lot: {found.seed} ({origin}).")
        if found.matches_stored is None:
            click.echo("The returning officer has not run the count yet.")
        elif found.matches_stored:
            click.echo("This tally matches the stored count.")
    if found.matches_stored is False:
        click.echo("THE STORED COUNT DIFFERS FROM THIS TALLY OF THE BALLOTS.", err=True)
        raise SystemExit(1)


@election.command("verify")
@click.argument("election_id", metavar="ELECTION", type=int)
def election_verify(election_id: int) -> None:
    """Recompute the fingerprint (HMAC-SHA256, keyed from the secret key) of the ballots of ELECTION (its id)
    and compare it with the one recorded at the close, on the election and in the audit log; exits 1 if
    anything differs."""
    from portal.elections import results
    from portal.elections.errors import ElectionError

    settings = load_settings()
    with transaction(settings) as session:
        try:
            report = results.verify_ballots(session, election_id=election_id, key=settings.key_bytes())
        except ElectionError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Ballots now: {report.ballots}, HMAC-SHA256 {report.computed}")
    click.echo(f"At the close: {report.recorded_ballots}, HMAC-SHA256 {report.recorded}")
    if report.problems:
        for problem in report.problems:
            click.echo(problem, err=True)
        raise SystemExit(1)
    click.echo("The ballots match the fingerprint recorded at the close (and in the audit log).")


@election.command("decrypt")
@click.argument("election_id", metavar="ELECTION", type=int)
@click.option(
    "--share",
    "share_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trustee's share file; give as many as the election's threshold (repeat the option).",
)
def election_decrypt(election_id: int, share_files: tuple[Path, ...]) -> None:
    """Open the ballot box of ELECTION (its id) after its close, with enough trustees' share files: the key
    is rebuilt in this process's memory only, every sealed ballot is opened and shuffled into the ballots
    table in one transaction, and the ballots' fingerprint is recorded. Then the returning officer counts."""
    from portal.elections import trustees, voting
    from portal.elections.errors import ElectionError

    settings = load_settings()
    given = [trustees.GivenShare(text=path.read_text(encoding="utf-8")) for path in share_files]
    with transaction(settings) as session:
        try:
            opened = voting.open_ballot_box(
                session,
                actor=None,
                election_id=election_id,
                shares=given,
                key=settings.key_bytes(),
                now=system_clock(),
            )
        except ElectionError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(
        f"The ballot box of election {election_id} is open: {opened} ballot(s). The returning officer can count."
    )


@election.command("export-blt")
@click.argument("election_id", metavar="ELECTION", type=int)
@click.argument("contest_id", metavar="CONTEST", type=int)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="The file to write."
)
def election_export_blt(election_id: int, contest_id: int, output: Path | None) -> None:
    """Write the ballots of one ranked post (CONTEST, by id) of ELECTION (by id) in BLT, as counted (earlier
    winners withdrawn), to recount with `portal count FILE --rule ... --seed ...` or any STV program."""
    from portal.elections import results
    from portal.elections.errors import ElectionError

    settings = load_settings()
    with transaction(settings) as session:
        try:
            _, text = results.contest_blt(session, election_id=election_id, contest_id=contest_id)
        except ElectionError as exc:
            raise click.ClickException(exc.message) from None
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Written to {output}.", err=True)


@main.group()
def badges() -> None:
    """Printable name badges with their QR codes."""


@badges.command("pdf")
@click.argument("event")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write."
)
@click.option("--layout", type=click.Choice(["a6", "a4-4", "a4-8"]), default="a4-4", show_default=True)
@click.option("--ticket", type=int, default=None, help="Only this ticket type (its id).")
@click.option("--status", default="confirmed", show_default=True, help="Bookings with this status, or 'all'.")
@click.option(
    "--ribbon", default=None, help="Only this ribbon (speaker, staff, committee, organiser, delegate)."
)
def badges_pdf(
    event: str, output: Path, layout: str, ticket: int | None, status: str, ribbon: str | None
) -> None:
    """Write the badges of EVENT (its id or web address) to a PDF: A6, or A4 sheets of 4 or 8 with cut marks."""
    from sqlalchemy import select

    from portal.checkin import badging
    from portal.events.models import Event

    settings = load_settings()
    with transaction(settings) as session:
        found = (
            session.get(Event, int(event))
            if event.isascii() and event.isdigit() and len(event) <= 10
            else session.scalar(select(Event).where(Event.slug == event))
        )
        if found is None:
            raise click.ClickException(f"There is no event {event!r} (give its id or its web address).")
        chosen = badging.BadgeFilter(ticket_type_id=ticket, status=status, ribbon=ribbon)
        _, content, count = badging.event_badges_pdf(
            session, event_id=found.id, chosen=chosen, layout=layout, key=settings.key_bytes()
        )
    output.write_bytes(content)
    click.echo(f"{count} badge{'s' if count != 1 else ''} written to {output}.")


@main.group()
def events() -> None:
    """Conferences and meetings: registrations and waitlists."""


@events.command("expire-offers")
def events_expire_offers() -> None:
    """Pass every waitlist offer whose deadline has passed (conference places and workshop seats) to the next
    person waiting (each gets an e-mail).
    The app does this by itself every minute and whenever a page is viewed; safe to run as often as you like."""
    from starlette.routing import Router

    from portal.app import build_routes
    from portal.events.links import Links
    from portal.events.tasks import expire_due

    settings = load_settings()
    configure_logging(settings.log_level)
    links = Links(settings.base_url, Router(routes=build_routes()).url_path_for, key=settings.key_bytes())
    database = _database(settings)
    try:
        places, seats = expire_due(database, now=system_clock(), links=links)
    finally:
        database.dispose()
    click.echo(f"Lapsed offers passed on: {places}. Lapsed workshop seat offers passed on: {seats}.")


if __name__ == "__main__":  # pragma: no cover
    main()
