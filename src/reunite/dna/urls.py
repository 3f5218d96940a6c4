"""Web pages of the DNA registry (namespace ``dna``); other apps link to these names.

``dna:sample_create`` takes ``?found_person=ID`` or ``?family_member=ID``; a missing report's
family (where relatives are placed before they give a sample) is ``dna:family_detail``.
"""

from django.urls import path

from reunite.dna import match_views, views

app_name = "dna"
urlpatterns = [
    path("", views.work_list, name="work_list"),
    path("samples/", views.sample_list, name="sample_list"),
    path("samples/new/", views.sample_create, name="sample_create"),
    path("samples/<int:pk>/", views.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/custody/", views.custody_add, name="custody_add"),
    path("samples/<int:pk>/consent/", views.consent_record, name="consent_record"),
    path("samples/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("families/<int:report_id>/", views.family_detail, name="family_detail"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile_detail"),
    path("profiles/<int:pk>/review/", views.qc_review, name="qc_review"),
    path("imports/new/", views.import_create, name="import_create"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    # matching: candidates, review, match reports, the comparison battle
    path("matches/", match_views.candidate_list, name="candidate_list"),
    path("matches/<int:pk>/", match_views.candidate_detail, name="candidate_detail"),
    path("matches/<int:pk>/review/", match_views.candidate_review, name="candidate_review"),
    path("matches/<int:pk>/report/", match_views.candidate_report, name="candidate_report"),
    path(
        "matches/<int:pk>/report.pdf",
        match_views.candidate_report_pdf,
        name="candidate_report_pdf",
    ),
    path("battle/", match_views.battle_page, name="battle"),
    path("battle/start/", match_views.battle_start, name="battle_start"),
    path("battle/progress/", match_views.battle_progress, name="battle_progress"),
    path("searches/retry/", match_views.searches_retry, name="searches_retry"),
]
