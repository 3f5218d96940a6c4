"""Alert pages (namespace ``alerts``): the public side needs no sign-in, ``manage/`` does."""

from django.urls import path

from reunite.alerts import public_views, views
from reunite.alerts.feeds import ActiveAlertsFeed

app_name = "alerts"
urlpatterns = [
    # public
    path("", public_views.public_list, name="public_list"),
    path("feed.atom", ActiveAlertsFeed(), name="feed"),
    path("<int:pk>/", public_views.public_detail, name="public"),
    path("<int:pk>/cap.xml", public_views.cap_document, name="cap"),
    path("<int:pk>/photo", public_views.photo, name="photo"),
    # police
    path("manage/", views.manage_list, name="manage_list"),
    path("manage/new/<int:report_id>/", views.draft, name="draft"),
    path("manage/<int:pk>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:pk>/edit/", views.edit, name="edit"),
    path("manage/<int:pk>/release/", views.release, name="release"),
    path("manage/<int:pk>/approve/", views.approve, name="approve"),
    path("manage/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("manage/sightings/<int:pk>/photo/", views.sighting_photo, name="sighting_photo"),
    path("manage/sightings/<int:pk>/status/", views.sighting_status, name="sighting_status"),
]
