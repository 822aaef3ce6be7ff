from django.urls import path

from agents import chat_views, views

urlpatterns = [
    path("", views.agent_list_page, name="agent_list"),
    path("<int:agent_id>/edit/", views.agent_edit_page, name="agent_edit"),
    path("<int:agent_id>/delete/", views.agent_delete_page, name="agent_delete"),
    path("<int:agent_id>/chat/", chat_views.agent_chat_page, name="agent_chat"),
    path("conversations/<int:conversation_id>/", chat_views.conversation_page,
         name="conversation"),
    path("providers/", views.provider_list_page, name="provider_list"),
    path("providers/<int:connection_id>/edit/", views.provider_edit_page, name="provider_edit"),
    path("providers/<int:connection_id>/delete/", views.provider_delete_page,
         name="provider_delete"),
    path("tools/", views.tool_list_page, name="tool_list"),
    path("tools/python/", views.tool_python_add_page, name="tool_python_add"),
    path("tools/http/", views.tool_http_add_page, name="tool_http_add"),
    path("tools/<int:tool_id>/edit/", views.tool_edit_page, name="tool_edit"),
    path("tools/<int:tool_id>/delete/", views.tool_delete_page, name="tool_delete"),
    path("tools/<int:tool_id>/try/", views.tool_try_page, name="tool_try"),
]
