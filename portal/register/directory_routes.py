"""Find a Therapist (`/find-a-therapist`, public: the directory, a profile, its photo, the form that writes to
the therapist) and the registrant's own profile (`/me/practice-profile`, the member; a panel on My account),
named `register:*`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.contact import service as contact
from portal.elections.photos import MAX_BYTES, PER_HOUR, check_photo, clean_photo
from portal.errors import NotFound, PortalError
from portal.events.models import REGIONS
from portal.members.models import Member
from portal.members.selfservice_routes import render_section
from portal.register import directory, service
from portal.register.errors import Code
from portal.register.models import CLIENT_GROUPS, DELIVERY, MODALITIES, PracticeProfile
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number
from portal.web.tokens import same, token_digest
from portal.web.uploads import UploadRule

Errors = dict[str, str]

#: The profile's photo: checked, decoded and re-encoded to a plain JPEG before the transaction opens.
PROFILE_PHOTO = UploadRule(
    field="photo",
    max_bytes=MAX_BYTES,
    too_large=f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB. Upload a smaller one.",
    check=check_photo,
    process=clean_photo,
    per_hour=PER_HOUR,
    kind="profile-photo",
    noun="photos",
)


def _context(ctx: Ctx) -> dict[str, Any]:
    return {
        "regions": REGIONS,
        "modalities": MODALITIES,
        "client_groups": CLIENT_GROUPS,
        "delivery": DELIVERY,
    }


# --- the directory ---------------------------------------------------------------------------------------------


def _filters(ctx: Ctx) -> directory.Filters:
    def pick(name: str, choices: Mapping[str, str]) -> str:
        value = ctx.query.get(name, "")
        return value if value in choices else ""

    return directory.Filters(
        region=pick("region", REGIONS),
        town=ctx.query.get("town", "")[:60].strip(),
        postcode=ctx.query.get("postcode", "")[:8].strip(),
        online=ctx.query.get("online", "") in ("on", "1", "yes"),
        modality=pick("modality", MODALITIES),
        client_group=pick("client_group", CLIENT_GROUPS),
        language=ctx.query.get("language", "")[:60].strip(),
        page=whole_number(ctx.query.get("page", "1")) or 1,
    )


@page("public")
def index(ctx: Ctx) -> Response:
    filters = _filters(ctx)
    listing = directory.directory(ctx.db, filters, now=ctx.now, key=ctx.key)
    return ctx.render(
        "register/directory.html",
        {**_context(ctx), "listing": listing, "filters": filters, "codes": directory.codes},
        partial="register/_profiles.html",
    )


@page("public")
def profile(ctx: Ctx) -> Response:
    found, member = directory.shown_profile(ctx.db, number=ctx.params["number"], now=ctx.now)
    entry = service.entry(ctx.db, number=member.membership_number, now=ctx.now)
    return ctx.render(
        "register/profile.html",
        {**_context(ctx), "profile": found, "member": member, "entry": entry, "codes": directory.codes},
    )


@page("public")
def photo(ctx: Ctx) -> Response:
    found, _member = directory.shown_profile(ctx.db, number=ctx.params["number"], now=ctx.now)
    if found.photo is None:
        raise NotFound("This profile has no photo.", Code.NOT_FOUND)
    return Response(
        found.photo,
        media_type="image/jpeg",
        headers={
            "Cache-Control": "public, max-age=300",
            "Content-Disposition": "inline",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


# --- writing to a therapist --------------------------------------------------------------------------------------


def _sent_signature(ctx: Ctx, number: str) -> str:
    return token_digest(ctx.key, number, purpose="find-a-therapist-sent")[:24]


def _contact_page(
    ctx: Ctx, member_name: str, number: str, *, values: dict[str, Any], errors: Errors, refused: str = "",
    status_code: int = 200,
) -> Response:  # fmt: skip
    return ctx.render(
        "register/contact.html",
        {
            "therapist": member_name,
            "number": number,
            "values": values,
            "errors": errors,
            "refused": refused,
            "token": contact.form_token(key=ctx.key, now=ctx.now),
            "message_limit": directory.MESSAGE_LIMIT,
        },
        status_code=status_code,
    )


@page("public")
def write(ctx: Ctx) -> Response:
    number = ctx.params["number"]
    _found, member = directory.shown_profile(ctx.db, number=number, now=ctx.now)
    if ctx.request.method != "POST":
        return _contact_page(ctx, member.full_name, number, values={}, errors={})
    form = FormReader(ctx.form)
    message = directory.Message(
        name=form.text("name", label="your name"),
        email=form.email("email", label="your e-mail address, so that the therapist can reply"),
        message=form.text("message", label="your message", max_length=directory.MESSAGE_LIMIT),
    )
    if not form.ok:
        return _contact_page(
            ctx, member.full_name, number, values=form.data, errors=form.errors, status_code=422
        )
    try:
        with ctx.attempt():
            directory.relay(
                ctx.db,
                number=number,
                message=message,
                honeypot=form.raw("website"),
                token=form.raw("started"),
                ip=ctx.client_ip,
                now=ctx.now,
                key=ctx.key,
            )
    except PortalError as exc:
        code = 429 if exc.code == Code.THROTTLED else 422
        return _contact_page(
            ctx, member.full_name, number, values=form.data, errors={}, refused=exc.message, status_code=code
        )
    return ctx.redirect("register:sent", query=f"to={number}&sig={_sent_signature(ctx, number)}")


@page("public")
def sent(ctx: Ctx) -> Response:
    number = ctx.query.get("to", "")
    known = bool(number) and same(ctx.query.get("sig", ""), _sent_signature(ctx, number))
    return ctx.render("register/sent.html", {"number": number if known else ""})


# --- the registrant's own profile ---------------------------------------------------------------------------------


def parse_profile(
    raw: Mapping[str, Any] | None,
) -> tuple[directory.ProfileData | None, Errors, dict[str, Any]]:
    """The profile form into `ProfileData`, with one message per field that needs it."""
    form = FormReader(raw)
    published = form.checkbox("published")
    practice_name = form.text("practice_name", label="the practice's name", required=False)
    raw_towns = form.text("towns", label="the towns", required=False, max_length=400)
    towns = directory.split_list(raw_towns, limit=directory.MAX_TOWNS)
    if towns is None:
        form.error("towns", f"Enter at most {directory.MAX_TOWNS} towns, separated by commas.")
    region = form.choice("region", REGIONS, label="a region", required=False)
    raw_code = form.text("outward_code", label="the first half of the postcode", required=False, max_length=8)
    code = directory.outward_code(raw_code) if raw_code else ""
    if code is None:
        form.error(
            "outward_code",
            "Enter only the first half of the postcode, like M1, B33 or SW1A (the second half is not shown).",
        )
    delivery = form.choice("delivery", DELIVERY, label="in person, online or both")
    modalities = form.choices("modalities", MODALITIES)
    groups = form.choices("client_groups", CLIENT_GROUPS)
    raw_languages = form.text("languages", label="the languages", required=False, max_length=300)
    languages = directory.split_list(raw_languages, limit=directory.MAX_LANGUAGES)
    if languages is None:
        form.error("languages", f"Enter at most {directory.MAX_LANGUAGES} languages, separated by commas.")
    fees = {}
    for name, label in (("fee_from", "the lowest fee"), ("fee_to", "the highest fee")):
        raw_fee = form.raw(name).lstrip("£")
        form.data[name] = raw_fee
        fees[name] = whole_number(raw_fee, maximum=directory.MAX_FEE) if raw_fee else None
        if raw_fee and fees[name] is None:
            form.error(name, f"Enter {label} in whole pounds, from 0 to {directory.MAX_FEE}.")
    if fees["fee_from"] is not None and fees["fee_to"] is not None and fees["fee_to"] < fees["fee_from"]:
        form.error("fee_to", "The highest fee must be at least the lowest.")
    description = form.text(
        "description", label="the description", required=False, max_length=directory.DESCRIPTION_LIMIT
    )
    raw_site = form.text("website", label="the website", required=False, max_length=300)
    website = directory.web_address(raw_site) if raw_site else ""
    if website is None:
        form.error("website", "Enter the website's full address, starting with https:// or http://.")
    raw_phone = form.text("phone", label="the phone number", required=False, max_length=40)
    phone = directory.phone_number(raw_phone) if raw_phone else ""
    if phone is None:
        form.error("phone", "Enter a phone number in digits, like 0161 496 0000 or +44 161 496 0000.")
    if published and not (towns or delivery == "online"):
        form.error("towns", "Enter the town you practise in (or choose online only) before publishing.")
    if not form.ok:
        return None, form.errors, form.data
    data = directory.ProfileData(
        published=published,
        practice_name=practice_name,
        towns=towns or (),
        region=region,
        outward_code=code or "",
        delivery=delivery,
        modalities=tuple(modalities),
        client_groups=tuple(groups),
        languages=languages or (),
        fee_from=fees["fee_from"],
        fee_to=fees["fee_to"],
        description=description,
        website=website or "",
        phone=phone or "",
    )
    return data, form.errors, form.data


def _values(found: PracticeProfile | None) -> dict[str, Any]:
    if found is None:
        return {"delivery": "in_person"}
    names = ("published", "practice_name", "towns", "region", "outward_code", "delivery", "languages",
             "fee_from", "fee_to", "description", "website", "phone")  # fmt: skip
    values = {name: getattr(found, name) for name in names}
    values["modalities"] = directory.codes(found.modalities)
    values["client_groups"] = directory.codes(found.client_groups)
    return values


@page("member", uploads=(PROFILE_PHOTO,))
def my_profile(ctx: Ctx) -> Response:
    member_id = acting.member_id(ctx)
    found = directory.profile_of(ctx.db, member_id)
    values = _values(found)
    errors: Errors = {}
    if ctx.request.method == "POST":
        data, errors, values = parse_profile(ctx.form)
        upload = ctx.uploads.get("photo")
        if upload is not None and not upload.ok:
            assert upload.error is not None
            errors = {**errors, "photo": upload.error.message}
        if data is not None and not errors:
            try:
                with ctx.attempt():
                    directory.save_profile(
                        ctx.db,
                        member_id=member_id,
                        data=data,
                        photo=upload.value.jpeg if upload is not None and upload.ok else None,
                        remove_photo=FormReader(ctx.form).checkbox("remove_photo"),
                        actor=acting.actor(ctx),
                        now=ctx.now,
                    )
            except PortalError as exc:
                errors = {exc.details.get("field", "published"): exc.message}
            else:
                ctx.flash("Your practice profile is saved.")
                return ctx.redirect("register:my_profile")
    return ctx.render(
        "register/my_profile.html",
        {
            **_context(ctx),
            "profile": found,
            "values": values,
            "errors": errors,
            "on_register": service.is_on_register(ctx.db, member_id=member_id, now=ctx.now),
            "member": ctx.db.get(Member, member_id),
            "description_limit": directory.DESCRIPTION_LIMIT,
        },
        status_code=422 if errors else 200,
    )


def my_profile_section(ctx: Ctx) -> tuple[str, str] | None:
    """The "Find a Therapist" panel of My account: for a member on the register, or one with a profile."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return None
    member_id = ctx.principal.member_id
    found = directory.profile_of(ctx.db, member_id)
    listed = service.is_on_register(ctx.db, member_id=member_id, now=ctx.now)
    if found is None and not listed:
        return None
    return "Find a Therapist", render_section(
        ctx, "register/_my_profile.html", {"profile": found, "on_register": listed}
    )


routes = [
    Route("/find-a-therapist", index, name="directory"),
    Route("/find-a-therapist/sent", sent, name="sent"),
    Route("/find-a-therapist/{number}", profile, name="profile"),
    Route("/find-a-therapist/{number}/photo", photo, name="photo"),
    Route("/find-a-therapist/{number}/contact", write, methods=["GET", "POST"], name="contact"),
    Route("/me/practice-profile", my_profile, methods=["GET", "POST"], name="my_profile"),
]
