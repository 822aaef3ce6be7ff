from django.contrib import admin
from django.urls import include, path, re_path

from agents.openai_api import openai_api, openai_not_found
from oagweb import views
from oagweb.api import api, api_not_found

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("activity/counts/", views.dashboard_counts, name="dashboard_counts"),
    path("activity/feed/", views.dashboard_feed, name="dashboard_feed"),
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_page, name="logout"),
    path("teams/", views.team_list_page, name="team_list"),
    path("teams/<int:team_id>/", views.team_page, name="team_detail"),
    path("teams/<int:team_id>/switch/", views.team_switch, name="team_switch"),
    path("teams/<int:team_id>/members/", views.membership_add_page, name="membership_add"),
    path("teams/<int:team_id>/members/<int:membership_id>/", views.membership_update_page,
         name="membership_update"),
    path("teams/<int:team_id>/members/<int:membership_id>/remove/",
         views.membership_remove_page, name="membership_remove"),
    path("tokens/", views.token_list_page, name="token_list"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke_page, name="token_revoke"),
    path("jobs/ping/", views.job_ping_page, name="job_ping"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_page, name="job_cancel"),
    path("agents/", include("agents.urls")),
    path("reasoning/", include("reasoning.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Before the main API: the OpenAI-compatible API answers errors in OpenAI's shape.
    path("api/v1/openai/", openai_api.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/openai/", openai_not_found),
    re_path(r"^api/", api_not_found),
]
