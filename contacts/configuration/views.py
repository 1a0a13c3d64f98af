"""The dealer's admin pages (admin role): the program, the template editor with drafts, rules, team.

Thin: access through customers.access, page contexts from the read models, changes through workflows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts.configuration import invites, versions
from contacts.configuration import team as team_workflow
from contacts.configuration.changes import save_configuration
from contacts.configuration.forms import InviteForm, ProfitForm, RulesForm, TeamMemberForm, TemplateForm
from contacts.configuration.readmodels import dealership as dealership_pages
from contacts.configuration.readmodels import program as program_pages
from contacts.models import ConfigurationChange, ContactRules, TemplateVersion, TouchpointTemplate
from contacts.preview import PlannedCall, preview_template_change
from contacts.scripts import script_variables
from customers import access
from customers.models import Customer, Dealership


class AuthenticatedHttpRequest(HttpRequest):
    user: User


@require_GET
@access.role_required(access.CAN_CONFIGURE)
def program(request: AuthenticatedHttpRequest) -> HttpResponse:
    vin = request.GET.get("vin", "").strip()
    timeline = (
        program_pages.vehicle_timeline(vin=vin, dealerships=access.dealerships_of(request.user), now=timezone.now())
        if vin
        else program_pages.reference_timeline()
    )
    templates = TouchpointTemplate.objects.select_related("department").order_by("-is_active", "priority", "code")
    return render(request, "contacts/configuration/program.html", {
        "timeline": timeline,
        "vin": vin,
        "rows": program_pages.template_rows(templates, dealerships=access.dealerships_of(request.user), now=timezone.now()),
        "drafts": set(TemplateVersion.objects.filter(status=TemplateVersion.Status.DRAFT).values_list("code", flat=True)),
        "new_drafts": TemplateVersion.objects.filter(status=TemplateVersion.Status.DRAFT, template__isnull=True),
        "section": "program",
    })


def _template_or_draft(code: str) -> tuple[TouchpointTemplate | None, TemplateVersion | None]:
    template = TouchpointTemplate.objects.select_related("department").filter(code=code).first()
    draft = TemplateVersion.objects.filter(code=code, status=TemplateVersion.Status.DRAFT).first()
    if template is None and draft is None:
        raise Http404
    return template, draft


def _editor_context(
    request: AuthenticatedHttpRequest, *, form: TemplateForm, template: TouchpointTemplate | None,
    draft: TemplateVersion | None,
) -> dict[str, Any]:
    dealerships = access.dealerships_of(request.user)
    return {
        "form": form,
        "template": template,
        "draft": draft,
        "code": template.code if template else (draft.code if draft else ""),
        "versions": program_pages.version_rows(template=template, dealerships=dealerships) if template else [],
        "variables": script_variables(),
        "section": "program",
    }


@access.role_required(access.CAN_CONFIGURE)
def template_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None, instance=TouchpointTemplate(), is_new=True)
    if request.method == "POST" and form.is_valid():
        if TemplateVersion.objects.filter(code=form.instance.code, status=TemplateVersion.Status.DRAFT).exists():
            form.add_error("code", _("A draft with this code exists already."))
        else:
            draft = versions.save_template_draft(edited=form.instance, user=request.user, now=timezone.now())
            messages.success(request, _("Draft saved. Preview it, then publish it to put it live."))
            return redirect("configuration:template", code=draft.code)
    return render(request, "contacts/configuration/template_edit.html",
                  _editor_context(request, form=form, template=None, draft=None))


@access.role_required(access.CAN_CONFIGURE)
def template_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The editor: shows the open draft (else the live template); saving keeps a draft, nothing goes live."""
    template, draft = _template_or_draft(code)
    editing = versions.template_of(draft) if draft else template
    assert editing is not None
    form = TemplateForm(request.POST or None, instance=editing)
    if request.method == "POST" and form.is_valid():
        versions.save_template_draft(edited=form.instance, user=request.user, now=timezone.now())
        messages.success(request, _("Draft saved. Preview it, then publish it to put it live."))
        return redirect("configuration:template", code=code)
    return render(request, "contacts/configuration/template_edit.html",
                  _editor_context(request, form=form, template=template, draft=draft))


@require_GET
@access.role_required(access.CAN_CONFIGURE)
def template_preview(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """htmx: what the draft would do in the next 90 days, and its script read to a sample customer."""
    template, draft = _template_or_draft(code)
    edited = versions.template_of(draft) if draft else template
    assert edited is not None
    dealerships = access.dealerships_of(request.user)
    today = timezone.localdate()
    series = preview_template_change(edited=edited, today=today, dealership_ids=list(dealerships.values_list("id", flat=True)))
    customers = {c.id: c for c in Customer.objects.filter(id__in=[s.customer_id for s in series.samples])}
    chosen = request.GET.get("customer")
    script = program_pages.rendered_script(
        edited=edited,
        customer_id=int(chosen) if chosen and chosen.isdigit() else (series.samples[0].customer_id if series.samples else None),
        dealerships=dealerships,
        today=today,
    )
    russian = (get_language() or "en").startswith("ru")
    names = {t.code: (t.name_ru if russian else t.name_en) or t.code for t in [*TouchpointTemplate.objects.all(), edited]}

    def calls_in_words(calls: list[PlannedCall]) -> list[tuple[dt.date, str]]:
        return [(call.day, ", ".join(names.get(c, c) for c in call.codes)) for call in calls]

    return render(request, "contacts/configuration/template_edit.html#preview", {
        "preview": series,
        "messages_a_day": (round(sum(series.messages_before) / len(series.days), 1),
                           round(sum(series.messages_after) / len(series.days), 1)) if series.days else (0, 0),
        "neighbour_rows": [(names.get(n.code, n.code), n) for n in series.neighbours],
        "sample_rows": [(s, customers[s.customer_id].full_name if s.customer_id in customers else s.customer_id,
                         calls_in_words(s.calls_before), calls_in_words(s.calls_after))
                        for s in series.samples],
        "script": script, "code": code, "draft": draft,
    })


@require_POST
@access.role_required(access.CAN_CONFIGURE)
def template_publish(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    _template, draft = _template_or_draft(code)
    if draft is None:
        messages.info(request, _("There is no draft to publish."))
        return redirect("configuration:template", code=code)
    try:
        published = versions.publish_template_version(draft=draft, user=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("configuration:template", code=code)
    messages.success(request, _("Version %(n)s is live: the next plans and queues use it.") % {"n": published.number})
    return redirect("configuration:template", code=code)


@require_POST
@access.role_required(access.CAN_CONFIGURE)
def template_discard(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    template, draft = _template_or_draft(code)
    if draft is not None:
        versions.discard_template_draft(draft=draft)
        messages.success(request, _("Draft discarded."))
    return redirect("configuration:template", code=code) if template else redirect("configuration:program")


@require_POST
@access.role_required(access.CAN_CONFIGURE)
def template_restore(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    old = get_object_or_404(TemplateVersion, code=code, number=number, status=TemplateVersion.Status.PUBLISHED)
    versions.restore_template_version(version=old, user=request.user, now=timezone.now())
    messages.success(request, _("Version %(n)s is the draft now: preview it, then publish it.") % {"n": number})
    return redirect("configuration:template", code=code)


def _dealership_for(request: AuthenticatedHttpRequest) -> Dealership:
    """The dealership the page is about: ?dealership=<id> among the user's, else their first."""
    dealerships = access.dealerships_of(request.user).order_by("name")
    wanted = request.GET.get("dealership") or request.POST.get("dealership")
    if wanted:
        if not wanted.isdigit():
            raise Http404
        return get_object_or_404(dealerships, pk=wanted)
    first = dealerships.first()
    if first is None:
        raise Http404
    return first


@access.role_required(access.CAN_CONFIGURE)
def rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    dealership = _dealership_for(request)
    contact_rules = ContactRules.for_dealership(dealership)
    form = RulesForm(request.POST or None, instance=contact_rules)
    if request.method == "POST" and form.is_valid():
        save_configuration(form=form, subject=ConfigurationChange.Subject.RULES, user=request.user, now=timezone.now(),
                           extra_fields=("call_hours_start", "call_hours_end"))
        messages.success(request, _("Rules of %(name)s saved; the next queue build uses them.") % {"name": dealership.name})
        return redirect(f"{reverse('configuration:rules')}?dealership={dealership.pk}")
    language = "ru" if (get_language() or "en").startswith("ru") else "en_US"
    return render(request, "contacts/configuration/rules.html", {
        "form": form,
        "dealership": dealership,
        "dealerships": access.dealerships_of(request.user).order_by("name"),
        "changes": dealership_pages.recent_changes(dealership=dealership),
        "holidays": dealership_pages.holidays_ahead(dealership=dealership, today=dealership.local_date(timezone.now()),
                                              language=language),
        "section": "rules",
    })


def _apply_errors(form: TeamMemberForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error("password" if "password" in form.fields else None, error.messages)


def _team_page(request: AuthenticatedHttpRequest, *, form: TeamMemberForm | None = None,
               invite_form: InviteForm | None = None) -> HttpResponse:
    scope = access.dealerships_of(request.user)
    return render(request, "contacts/configuration/team.html", {
        "form": form or TeamMemberForm(scope=scope),
        "invite_form": invite_form or InviteForm(scope=scope, language=get_language() or "en"),
        "grid": dealership_pages.team_grid(members=team_workflow.team_of(dealerships=scope), dealerships=scope,
                                           now=timezone.now()),
        "section": "team",
    })


@access.role_required(access.CAN_CONFIGURE)
def team(request: AuthenticatedHttpRequest) -> HttpResponse:
    """People x dealership x role in one grid, a form to invite a person by e-mail and one to add a person."""
    scope = access.dealerships_of(request.user)
    form = TeamMemberForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = team_workflow.create_team_member(
                username=data["username"], first_name=data["first_name"], last_name=data["last_name"],
                email=data["email"], password=data["password"], roles=data["roles"], dealerships=data["dealerships"],
                scope=scope,
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("%(name)s can log in now.") % {"name": member.get_full_name() or member.username})
            return redirect("configuration:team")
    return _team_page(request, form=form)


@require_POST
@access.role_required(access.CAN_CONFIGURE)
def team_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Invite a person by e-mail: they get a link to set their password (contacts.configuration.invites)."""
    scope = access.dealerships_of(request.user)
    form = InviteForm(request.POST, scope=scope, language=get_language() or "en")
    if not form.is_valid():
        return _team_page(request, invite_form=form)
    data = form.cleaned_data
    try:
        invites.invite_person(
            email=data["email"], first_name=data["first_name"], last_name=data["last_name"], roles=data["roles"],
            dealerships=data["dealerships"], scope=scope, by=request.user, base_url=request.build_absolute_uri("/"),
            language=data["language"], now=timezone.now(),
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
        return _team_page(request, invite_form=form)
    except invites.InviteNotSent:
        messages.error(request, _("%(email)s is on the team, but the e-mail could not be sent; send it again "
                                  "from the grid once the mail server is back.") % {"email": data["email"]})
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
    return redirect("configuration:team")


@require_POST
@access.role_required(access.CAN_CONFIGURE)
def team_resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Send the invitation again (a new link; the earlier one stops working)."""
    member = get_object_or_404(team_workflow.team_of(dealerships=access.dealerships_of(request.user)), pk=pk)
    try:
        invites.send_invite(user=member, by=request.user, base_url=request.build_absolute_uri("/"),
                            language=get_language() or "en", now=timezone.now())
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    except invites.InviteNotSent:
        messages.error(request, _("The e-mail to %(email)s could not be sent; try again later.") % {"email": member.email})
    else:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": member.email})
    return redirect("configuration:team")


class InviteAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation's link: the person sets their password (Django's reset-confirm, its token check)."""

    template_name = "registration/invite_accept.html"
    success_url = reverse_lazy("invite_done")
    reset_url_token = "set-password"  # noqa: S105 - a URL segment, not a password


@login_not_required
@require_GET
def invite_accepted(request: HttpRequest) -> HttpResponse:
    messages.success(request, _("Your password is set. Log in with your e-mail address and the new password."))
    return redirect("login")


@access.role_required(access.CAN_CONFIGURE)
def team_member(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scope = access.dealerships_of(request.user)
    member = get_object_or_404(team_workflow.team_of(dealerships=scope), pk=pk)
    form = TeamMemberForm(request.POST or None, scope=scope, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team_workflow.update_team_member(
                user=member, by=request.user, first_name=data["first_name"], last_name=data["last_name"],
                email=data["email"], roles=data["roles"], dealerships=data["dealerships"],
                is_active=data["is_active"], scope=scope,
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": member.get_full_name() or member.username})
            return redirect("configuration:team")
    return render(request, "contacts/configuration/team_member.html", {"form": form, "member": member, "section": "team"})


@access.role_required(access.CAN_CONFIGURE)
def profit(request: AuthenticatedHttpRequest) -> HttpResponse:
    """a, b and c of the first-year profit estimate, with this dealership's measured values beside them."""
    dealership = _dealership_for(request)
    form = ProfitForm(request.POST or None, instance=ContactRules.for_dealership(dealership))
    if request.method == "POST" and form.is_valid():
        save_configuration(form=form, subject=ConfigurationChange.Subject.PROFIT, user=request.user, now=timezone.now())
        messages.success(request, _("Coefficients of %(name)s saved; the dashboard's estimate uses them.") % {"name": dealership.name})
        return redirect(f"{reverse('configuration:profit')}?dealership={dealership.pk}")
    return render(request, "contacts/configuration/profit.html", {
        "form": form,
        "dealership": dealership,
        "dealerships": access.dealerships_of(request.user).order_by("name"),
        "measured": dealership_pages.measured_coefficients(dealership=dealership, today=dealership.local_date(timezone.now())),
        "section": "profit",
    })
