"""/account/tokens/: a user's own API tokens — create one (its secret shown once), revoke one."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers import access, api_tokens
from customers.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("What the token is for, e.g. “1C export”."))
    scopes = forms.MultipleChoiceField(label=gettext_lazy("Scopes"), choices=ApiToken.Scope.choices,
                                       widget=forms.CheckboxSelectMultiple, initial=[ApiToken.Scope.READ])
    days = forms.IntegerField(label=gettext_lazy("Valid for, days"), min_value=1)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["days"].initial = settings.API_TOKEN_DEFAULT_DAYS
        self.fields["days"].validators.append(_max_days)


def _max_days(value: int) -> None:
    if value > settings.API_TOKEN_MAX_DAYS:
        raise forms.ValidationError(_("A token lives from 1 to %(max)s days.") % {"max": settings.API_TOKEN_MAX_DAYS})


def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        issued = api_tokens.issue_token(user=request.user, name=form.cleaned_data["name"],
                                        scopes=form.cleaned_data["scopes"], days=form.cleaned_data["days"],
                                        now=timezone.now())
        secret = issued.secret  # shown in this answer only: never stored, never in a message or a redirect
        form = TokenForm()
    # Times in the user's dealership's zone (the first of theirs), as everywhere else in the product.
    home = access.dealerships_of(request.user).order_by("id").first()
    return render(request, "customers/api_tokens.html", {
        "form": form, "secret": secret, "now": timezone.now(),
        "time_zone": home.time_zone if home else settings.DEFAULT_DEALERSHIP_TIME_ZONE,
        "tokens": ApiToken.objects.filter(user=cast(User, request.user)).order_by("-created_at"),
    })


@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=cast(User, request.user))
    api_tokens.revoke_token(token=token, now=timezone.now())
    messages.success(request, _("The token %(name)s is revoked: it no longer opens the API.") % {"name": token.name})
    return redirect("api_tokens")
