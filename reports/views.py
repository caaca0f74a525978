from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import dashboard_figures


@login_required
def dashboard(request):
    return render(request, "reports/dashboard.html", {"f": dashboard_figures()})
