from django.urls import path

from reunite.accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    # Every user's own account.
    path("me/", admin_views.my_account, name="my_account"),
    path("me/password/", admin_views.OwnPasswordChangeView.as_view(), name="password_change"),
    # Administration of units and users (administrators, within their jurisdiction).
    path("manage/units/", admin_views.organisation_list, name="organisation_list"),
    path("manage/units/new/", admin_views.organisation_create, name="organisation_create"),
    path("manage/units/<int:pk>/", admin_views.organisation_detail, name="organisation_detail"),
    path("manage/users/", admin_views.user_list, name="user_list"),
    path("manage/users/new/", admin_views.user_create, name="user_create"),
    path("manage/users/<int:pk>/", admin_views.user_detail, name="user_detail"),
    path("manage/users/<int:pk>/role/", admin_views.user_assignment, name="user_assignment"),
    path("manage/users/<int:pk>/active/", admin_views.user_active, name="user_active"),
    path("manage/users/<int:pk>/password/", admin_views.user_password, name="user_password"),
]
