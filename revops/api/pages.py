"""API token pages for Integration Admins: make a token for a user (its value
is shown once, on the answer to the form, and never again), list tokens with
their prefix and last use, revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from revops.actors import Actor
from revops.api.tokens import api_token_create, api_token_revoke
from revops.models import ApiToken
from revops.web.decorators import edits, reads

TEMPLATE = "api/tokens.html"


class TokenForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        help_text="The token acts as this person, with exactly their role.",
    )
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'ERP nightly export'.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by(User.USERNAME_FIELD)


def _page(request, form: TokenForm, *, new_token=None, status: int = 200):
    tokens = ApiToken.objects.select_related("user", "created_by", "revoked_by").order_by(
        "revoked_at", "-created_at", "-id"
    )[:500]
    context = {
        "form": form,
        "tokens": tokens,
        "new_token": new_token,
        "can_add": request.user.has_perm("revops.add_apitoken"),
        "can_revoke": request.user.has_perm("revops.change_apitoken"),
        "section": "api",
    }
    return render(request, TEMPLATE, context, status=status)


@never_cache
@reads("revops.view_apitoken")
def token_list(request):
    return _page(request, TokenForm())


@never_cache
@edits("revops.add_apitoken")
def token_add(request):
    if request.method != "POST":
        return redirect("api_tokens")
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            made = api_token_create(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                actor=Actor.for_user(request.user),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            # The value is in this answer only: copy it now, it cannot be shown again.
            return _page(request, TokenForm(), new_token=made, status=201)
    return _page(request, form, status=400)


@edits("revops.change_apitoken")
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    api_token_revoke(token=token, actor=Actor.for_user(request.user))
    messages.success(request, f"Token {token.prefix}… ({token.name}) is revoked; it is refused from now on.")
    return redirect("api_tokens")
