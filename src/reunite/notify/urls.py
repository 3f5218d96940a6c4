"""Web pages of alert subscriptions (namespace ``notify``): public sign-up, confirmation and
opt-out; administrators' partner and dead-letter pages."""

from django.urls import path

from reunite.notify import views

app_name = "notify"
urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/sent/", views.subscribe_sent, name="subscribe_sent"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("optout/<str:token>/", views.optout, name="optout"),
    path("divisions/", views.division_search, name="division_search"),
    path("partners/", views.partner_list, name="partner_list"),
    path("partners/new/", views.partner_create, name="partner_create"),
    path("partners/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("dead-letters/", views.dead_letter_list, name="dead_letters"),
]
