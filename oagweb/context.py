"""The current team of a browser session, and what every page's layout needs."""

from django.conf import settings
from django.http import HttpRequest

from oagweb.models import Membership

SESSION_TEAM_KEY = "oag_team_id"

# Sections of the navigation; a section without a URL yet is shown, but inactive.
NAV_SECTIONS = [
    ("agents", "Agents"),
    ("knowledge", "Knowledge"),
    ("training", "Training"),
    ("compression", "Compression"),
    ("devices", "Devices"),
]


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the team chosen in the session, else the user's first one."""
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("team").filter(user=request.user)
    chosen = request.session.get(SESSION_TEAM_KEY)
    found = memberships.filter(team_id=chosen).first() if chosen else None
    return found or memberships.order_by("team__name").first()


def platform(request: HttpRequest) -> dict:
    membership = current_membership(request) if request.user.is_authenticated else None
    return {
        "current_membership": membership,
        "current_team": membership.team if membership else None,
        "my_memberships": (
            Membership.objects.select_related("team").filter(user=request.user)
            if request.user.is_authenticated else []
        ),
        "mlflow_ui_url": settings.MLFLOW_UI_URL,
    }
