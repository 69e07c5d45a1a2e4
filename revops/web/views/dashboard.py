"""The home page."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from revops.selectors.dashboard import dashboard as dashboard_data


@permission_required("revops.view_customer", raise_exception=True)
@require_http_methods(["GET", "HEAD"])
def dashboard(request):
    return render(request, "revops/dashboard.html", {"board": dashboard_data(request.user)})
