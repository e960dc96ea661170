"""Complaints: the public page and form (`complaints:page`), and the cases, which only the `complaints` role
and administrators see (`complaints:cases`, `complaints:case` and its steps, `complaints:procedure`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.complaints import service
from portal.complaints.errors import ComplaintError
from portal.complaints.models import ABOUT, NEXT_STAGES, STAGES, Complaint
from portal.errors import Kind
from portal.mail.service import MailError
from portal.members.selfservice_routes import render_section
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.forms import FormReader
from portal.web.uploads import UploadRefused, UploadRule

#: Who handles complaints: the complaints role, and administrators.
HANDLERS = ("complaints", "admin")
#: The honeypot: a field people never see (hidden by CSS and from assistive technology), which robots fill.
HONEYPOT = "website"
DOCUMENT_FIELDS = tuple(f"document_{n}" for n in range(1, service.MAX_DOCUMENTS + 1))
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_PHONE_CHARS = set("0123456789 +()-.")


def _document_type(data: bytes) -> str:
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise UploadRefused("unsupported_format", "Send a PDF, JPEG or PNG file.")


def _check_document(data: bytes) -> None:
    if not data:
        raise UploadRefused("bad_file", "That file is empty.")
    _document_type(data)


def _document_rule(field: str) -> UploadRule:
    def process(data: bytes) -> service.Document:
        return service.Document(filename="", content_type=_document_type(data), content=data)

    return UploadRule(
        field=field,
        max_bytes=service.MAX_DOCUMENT_BYTES,
        too_large=f"The file is larger than {service.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
        check=_check_document,
        process=process,
    )


DOCUMENTS = tuple(_document_rule(field) for field in DOCUMENT_FIELDS)


# --- the public page ----------------------------------------------------------------------------------------


def _complaint_form(ctx: Ctx) -> tuple[dict[str, str], list[service.Document], dict[str, str]]:
    form = FormReader(ctx.form)
    values = {
        "about": form.choice("about", ABOUT, label="what the complaint is about"),
        "subject_name": form.text("subject_name", label="the name", required=False),
        "name": form.text("name", label="your name"),
        "email": form.email("email", label="your e-mail address"),
        "phone": form.text("phone", label="your phone number", required=False, max_length=40),
        "what_happened": form.text("what_happened", label="what happened", max_length=10000),
        "happened_when": form.text("happened_when", label="when it happened"),
        "outcome_sought": form.text("outcome_sought", label="the outcome you are seeking", max_length=5000),
    }
    if (
        values["about"] in ("member", "course")
        and not values["subject_name"]
        and "subject_name" not in form.errors
    ):
        form.error(
            "subject_name",
            "Enter the name of the member or practitioner."
            if values["about"] == "member"
            else "Enter the name of the course.",
        )
    if values["phone"] and not set(values["phone"]) <= _PHONE_CHARS and "phone" not in form.errors:
        form.error("phone", "Enter a phone number in digits, like 020 7946 0000 or +44 20 7946 0000.")
    documents = []
    for field in DOCUMENT_FIELDS:
        upload = ctx.uploads.get(field)
        if upload is None:
            continue
        if upload.error is not None:
            form.error(field, upload.error.message)
        else:
            documents.append(
                service.Document(
                    filename=upload.filename or "document",
                    content_type=upload.value.content_type,
                    content=upload.value.content,
                )
            )
    if form.raw(HONEYPOT):
        form.error(HONEYPOT, "Leave the field headed “Leave this empty” empty, and send the form again.")
    if not form.errors:
        try:
            service.check_stamp(ctx.key, form.raw("started"), ctx.now)
        except ComplaintError as exc:
            form.error("started", exc.message)
    return values, documents, form.errors


def _complaints_page(
    ctx: Ctx,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return ctx.render(
        "complaints/page.html",
        {
            "procedure": service.procedure(ctx.db),
            "about": ABOUT,
            "values": values or {"about": ""},
            "errors": errors or {},
            "started": service.form_stamp(ctx.key, ctx.now),
            "document_fields": DOCUMENT_FIELDS,
            "honeypot": HONEYPOT,
            "can_edit": ctx.principal is not None and ctx.principal.has(*HANDLERS),
        },
        status_code=status_code,
    )


@page("public", uploads=DOCUMENTS)
def complaints_page(ctx: Ctx) -> Response:
    """The procedure, and the form that makes a complaint."""
    if ctx.request.method != "POST":
        return _complaints_page(ctx)
    values, documents, errors = _complaint_form(ctx)
    if errors:
        return _complaints_page(ctx, values=values, errors=errors, status_code=422)
    try:
        with ctx.attempt():
            complaint = service.submit(
                ctx.db,
                values=values,
                documents=documents,
                client=service.client_digest(ctx.key, ctx.client_ip),
                now=ctx.now,
                case_link=lambda complaint_id: ctx.absolute_url("complaints:case", complaint_id=complaint_id),
            )
    except (ComplaintError, MailError) as exc:
        return _complaints_page(ctx, values=values, errors={"form": exc.message}, status_code=status_for(exc))
    ctx.flash(f"Your complaint has been received. Its reference is {complaint.reference}.")
    return ctx.redirect("complaints:thanks")


@page("public")
def thanks(ctx: Ctx) -> Response:
    return ctx.render("complaints/thanks.html", {"procedure": service.procedure(ctx.db)})


# --- the procedure, as staff edit it ------------------------------------------------------------------------


@page(*HANDLERS)
def edit_procedure(ctx: Ctx) -> Response:
    found = service.procedure(ctx.db)
    values: dict[str, Any] = {
        "text": found.text,
        "acknowledge_days": found.acknowledge_days,
        "outcome_days": found.outcome_days,
    }
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        text = form.text("text", label="the procedure", max_length=20000)
        acknowledge = form.integer("acknowledge_days", label="the working days to acknowledge in", minimum=1)
        outcome = form.integer("outcome_days", label="the working days to give the outcome in", minimum=1)
        values = form.data
        errors = form.errors
        if form.ok:
            assert acknowledge is not None and outcome is not None
            try:
                with ctx.attempt():
                    service.save_procedure(
                        ctx.db,
                        text=text,
                        acknowledge_days=acknowledge,
                        outcome_days=outcome,
                        actor=acting.actor(ctx),
                        now=ctx.now,
                    )
            except ComplaintError as exc:
                errors = {str(exc.details.get("field", "text")): exc.message}
            else:
                ctx.flash("The complaints procedure is saved.")
                return ctx.redirect("complaints:procedure")
    return ctx.render(
        "complaints/procedure.html",
        {"values": values, "errors": errors, "procedure": found},
        status_code=422 if errors else 200,
    )


# --- the cases ----------------------------------------------------------------------------------------------


FILTERS = {"open": "Open", "": "All", **STAGES}


@page(*HANDLERS)
def cases(ctx: Ctx) -> Response:
    stage = ctx.query.get("stage", "open")
    stage = stage if stage in FILTERS else "open"
    today = service.today(ctx.now)
    found = service.cases(ctx.db, stage=stage)
    return ctx.render(
        "complaints/cases.html",
        {
            "cases": [(c, service.overdue(c, today)) for c in found],
            "filters": FILTERS,
            "stage": stage,
        },
    )


def _case_id(ctx: Ctx) -> int:
    return int(ctx.params["complaint_id"])


def _render_case(
    ctx: Ctx,
    complaint: Complaint,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> Response:
    errors = errors or {}
    return ctx.render(
        "complaints/case.html",
        {
            "case": complaint,
            "overdue": service.overdue(complaint, service.today(ctx.now)),
            "next_stages": [(s, STAGES[s]) for s in NEXT_STAGES.get(complaint.stage, ())],
            "stages": STAGES,
            "member": complaint_member(ctx, complaint),
            "errors": errors,
            "values": values or {},
        },
        status_code=status_code or (422 if errors else 200),
    )


def complaint_member(ctx: Ctx, complaint: Complaint) -> Any:
    if complaint.member_id is None:
        return None
    from portal.members.models import Member

    return ctx.db.get(Member, complaint.member_id)


@page(*HANDLERS)
def case(ctx: Ctx) -> Response:
    return _render_case(ctx, service.get_case(ctx.db, _case_id(ctx)))


def _step(ctx: Ctx, run: Any, *, done: str, field: str, values: dict[str, Any]) -> Response:
    """Run one step of a case in a savepoint; a refusal is shown beside `field` on the case page."""
    complaint_id = _case_id(ctx)
    try:
        with ctx.attempt():
            run()
    except ComplaintError as exc:
        if exc.kind not in (Kind.INVALID, Kind.CONFLICT):
            raise
        complaint = service.get_case(ctx.db, complaint_id)
        return _render_case(
            ctx,
            complaint,
            errors={str(exc.details.get("field", field)): exc.message},
            values=values,
            status_code=status_for(exc),
        )
    ctx.flash(done)
    return ctx.redirect("complaints:case", complaint_id=complaint_id)


@page(*HANDLERS)
def add_entry(ctx: Ctx) -> Response:
    complaint = service.get_case(ctx.db, _case_id(ctx))
    form = FormReader(ctx.form)
    kind = form.choice("kind", {"note": "Note", "decision": "Decision"}, label="a note or a decision")
    body = form.text("body", label="the note or decision", max_length=20000)
    if not form.ok:
        return _render_case(ctx, complaint, errors=form.errors, values=form.data)
    return _step(
        ctx,
        lambda: service.add_entry(
            ctx.db, complaint_id=complaint.id, kind=kind, body=body, actor=acting.actor(ctx), now=ctx.now
        ),
        done="The decision is recorded." if kind == "decision" else "The note is added.",
        field="body",
        values=form.data,
    )


@page(*HANDLERS)
def move_stage(ctx: Ctx) -> Response:
    complaint = service.get_case(ctx.db, _case_id(ctx))
    form = FormReader(ctx.form)
    to_stage = form.choice("to", STAGES, label="the stage to move to")
    from_stage = form.choice("from", STAGES, label="the stage the case is at")
    referred_to = form.text("referred_to", label="the body it is referred to", required=False)
    if not form.ok:
        return _render_case(
            ctx, complaint, errors={"stage": next(iter(form.errors.values()))}, values=form.data
        )
    return _step(
        ctx,
        lambda: service.move_stage(
            ctx.db,
            complaint_id=complaint.id,
            from_stage=from_stage,
            to_stage=to_stage,
            referred_to=referred_to,
            actor=acting.actor(ctx),
            now=ctx.now,
        ),
        done=f"The case is now at “{STAGES[to_stage]}”.",
        field="stage",
        values=form.data,
    )


@page(*HANDLERS)
def send_letter(ctx: Ctx) -> Response:
    complaint = service.get_case(ctx.db, _case_id(ctx))
    form = FormReader(ctx.form)
    subject = form.text("letter_subject", label="the letter's subject")
    body = form.text("letter_body", label="the letter", max_length=20000)
    if not form.ok:
        return _render_case(ctx, complaint, errors=form.errors, values=form.data)
    return _step(
        ctx,
        lambda: service.send_letter(
            ctx.db,
            complaint_id=complaint.id,
            subject=subject,
            body=body,
            actor=acting.actor(ctx),
            now=ctx.now,
        ),
        done=f"The letter is on its way to {complaint.complainant_email}.",
        field="letter_body",
        values=form.data,
    )


@page(*HANDLERS)
def link_member(ctx: Ctx) -> Response:
    complaint = service.get_case(ctx.db, _case_id(ctx))
    form = FormReader(ctx.form)
    number = form.text("membership_number", label="the membership number", required=False, max_length=50)
    if not form.ok:
        return _render_case(ctx, complaint, errors=form.errors, values=form.data)
    return _step(
        ctx,
        lambda: service.link_member(
            ctx.db, complaint_id=complaint.id, membership_number=number, actor=acting.actor(ctx), now=ctx.now
        ),
        done="The member the case is about is saved." if number else "The case is linked to no member.",
        field="membership_number",
        values=form.data,
    )


@page(*HANDLERS)
def document(ctx: Ctx) -> Response:
    """A document the complainant sent: always a download, never shown inline in the portal's origin."""
    found = service.document(ctx.db, complaint_id=_case_id(ctx), document_id=int(ctx.params["document_id"]))
    safe = "".join(ch for ch in found.filename if ch.isalnum() or ch in "._- ") or "document"
    return Response(
        found.content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- the member's staff page --------------------------------------------------------------------------------


def member_cases_section(ctx: Ctx, member: Any) -> tuple[str, str] | None:
    """The complaints about a member, on that member's staff page: only for those who handle complaints."""
    if ctx.principal is None or not ctx.principal.has(*HANDLERS):
        return None
    found = service.cases_for_member(ctx.db, member.id)
    today = service.today(ctx.now)
    return "Complaints", render_section(
        ctx, "complaints/_member_cases.html", {"cases": [(c, service.overdue(c, today)) for c in found]}
    )


routes = [
    Route("/complaints", complaints_page, methods=["GET", "POST"], name="page"),
    Route("/complaints/thanks", thanks, name="thanks"),
    Route("/complaints/procedure", edit_procedure, methods=["GET", "POST"], name="procedure"),
    Route("/complaints/cases", cases, name="cases"),
    Route("/complaints/cases/{complaint_id:int}", case, name="case"),
    Route("/complaints/cases/{complaint_id:int}/entries", add_entry, methods=["POST"], name="entry"),
    Route("/complaints/cases/{complaint_id:int}/stage", move_stage, methods=["POST"], name="stage"),
    Route("/complaints/cases/{complaint_id:int}/letters", send_letter, methods=["POST"], name="letter"),
    Route("/complaints/cases/{complaint_id:int}/member", link_member, methods=["POST"], name="member"),
    Route("/complaints/cases/{complaint_id:int}/documents/{document_id:int}", document, name="document"),
]
