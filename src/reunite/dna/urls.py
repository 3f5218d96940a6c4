"""Web pages of the DNA registry (namespace ``dna``); other apps link to these names.

``dna:sample_create`` takes ``?found_person=ID`` or ``?family_member=ID``; a missing report's
family (where relatives are placed before they give a sample) is ``dna:family_detail``.
"""

from django.urls import path

from reunite.dna import views

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
]
