from django.urls import path

from reasoning import fact_views, knowledge_views, views

urlpatterns = [
    path("", views.rule_set_list_page, name="rule_set_list"),
    path("<int:rule_set_id>/", views.rule_set_page, name="rule_set_detail"),
    path("<int:rule_set_id>/validate/", views.rule_set_validate_page, name="rule_set_validate"),
    path("<int:rule_set_id>/editor/", views.rule_set_editor_page, name="rule_set_editor"),
    path("<int:rule_set_id>/versions/", views.rule_set_version_save_page,
         name="rule_set_version_save"),
    path("<int:rule_set_id>/versions/<int:number>/", views.rule_set_version_page,
         name="rule_set_version"),
    path("<int:rule_set_id>/facts/", fact_views.rule_set_facts_page, name="rule_set_facts"),
    path("<int:rule_set_id>/facts/import/", fact_views.rule_set_facts_import_page,
         name="rule_set_facts_import"),
    path("<int:rule_set_id>/facts/export/", fact_views.rule_set_facts_export_page,
         name="rule_set_facts_export"),
    path("<int:rule_set_id>/facts/delete/", fact_views.rule_set_facts_delete_page,
         name="rule_set_facts_delete"),
    path("<int:rule_set_id>/runs/", knowledge_views.rule_set_runs_page, name="rule_set_runs"),
    path("<int:rule_set_id>/runs/start/", knowledge_views.rule_set_run_start_page,
         name="rule_set_run_start"),
    path("<int:rule_set_id>/query/", knowledge_views.rule_set_query_page, name="rule_set_query"),
    path("<int:rule_set_id>/proof/", knowledge_views.rule_set_proof_page, name="rule_set_proof"),
    path("runs/<int:run_id>/", knowledge_views.inference_run_page, name="reasoning_run"),
]
