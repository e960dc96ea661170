"""The office's page for the society's details: `/society` (named `society:details`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.society import service
from portal.society.models import PAYMENT_PROVIDERS
from portal.web.context import Ctx
from portal.web.forms import FormReader

Errors = dict[str, str]


def _details_form(raw: Mapping[str, Any] | None) -> tuple[dict[str, str], Errors]:
    form = FormReader(raw)
    values = {
        "name": form.text("name", label="the society's name"),
        "address": form.text("address", label="the address", required=False, max_length=500),
        "charity_number": form.text(
            "charity_number", label="the charity number", required=False, max_length=50
        ),
        "contact_email": form.email("contact_email", label="a contact e-mail address", required=False),
        "phone": form.text("phone", label="the telephone number", required=False, max_length=50),
        "company_number": form.text(
            "company_number", label="the company number", required=False, max_length=50
        ),
        "registered_address": form.text(
            "registered_address", label="the registered address", required=False, max_length=500
        ),
        "account_name": form.text("account_name", label="the account name", required=False),
        "sort_code": form.text("sort_code", label="the sort code", required=False, max_length=20),
        "account_number": form.text(
            "account_number", label="the account number", required=False, max_length=30
        ),
        "iban": form.text("iban", label="the IBAN", required=False, max_length=40),
        "bic": form.text("bic", label="the BIC", required=False, max_length=20),
        "notes": form.text("notes", label="the notes", required=False, max_length=1000),
        "provider": form.choice("provider", PAYMENT_PROVIDERS, label="how people pay", required=False),
    }
    if not values["provider"]:
        del values["provider"]  # not sent: kept as it is
    return values, form.errors


@page("office")
def details(ctx: Ctx) -> Response:
    found = service.society(ctx.db)
    bank = service.payment_settings(ctx.db)
    values = {name: getattr(found, name, "") for name in service.SOCIETY_FIELDS}
    values.update({name: getattr(bank, name, "") or "" for name in service.BANK_FIELDS})
    values["provider"] = bank.provider or "card"
    errors: Errors = {}
    if ctx.request.method == "POST":
        values, errors = _details_form(ctx.form)
        if not errors:
            service.save_details(ctx.db, values=values, actor=actor(ctx), now=ctx.now)
            ctx.request.app.state.society_name = values["name"]
            ctx.flash("The society's details are saved.")
            return ctx.redirect("society:details")
    return ctx.render(
        "society/details.html",
        {"values": values, "errors": errors, "providers": PAYMENT_PROVIDERS},
        status_code=422 if errors else 200,
    )


routes = [Route("/society", details, methods=["GET", "POST"], name="details")]
