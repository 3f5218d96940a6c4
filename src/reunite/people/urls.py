"""Web pages of the people registry (namespace ``people``); other apps link to these names."""

from django.urls import path

from reunite.people import views

app_name = "people"
urlpatterns = [
    path("missing/", views.missing_list, name="missing_list"),
    path("missing/new/", views.missing_create, name="missing_create"),
    path("missing/<int:pk>/", views.missing_detail, name="missing_detail"),
    path("missing/<int:pk>/edit/", views.missing_edit, name="missing_edit"),
    path("missing/<int:pk>/status/", views.missing_status, name="missing_status"),
    path("found/", views.found_list, name="found_list"),
    path("found/new/", views.found_create, name="found_create"),
    path("found/<int:pk>/", views.found_detail, name="found_detail"),
    path("found/<int:pk>/edit/", views.found_edit, name="found_edit"),
    path("found/<int:pk>/status/", views.found_status, name="found_status"),
    path("photos/<uuid:uuid>/", views.photo, name="photo"),
    path("divisions/", views.division_search, name="division_search"),
]
