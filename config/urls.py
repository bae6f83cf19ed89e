"""URL routes: the admin, sign-in, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

# Sign-in, sign-out and password change. No e-mailed password reset: nothing here sends mail;
# an administrator sets a forgotten password (`manage.py changepassword`).
accounts = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

# The admin names the site and links back to it (templates/admin/base_site.html adds the favicon).
admin.site.site_header = "Palimpsest administration"
admin.site.site_title = "Palimpsest administration"
admin.site.index_title = "Companies, captures, tags and users"
admin.site.site_url = "/"

# 403, 404 and 500 are Django's handlers with templates/40x.html and 500.html (nothing from the
# exception reaches the page but a refusal's own words); a 400 says what the view found wrong.
handler400 = "config.errors.bad_request"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(accounts)),
    path("", include("api.urls")),
    path("", include("annotations.urls")),
    path("", include("annotations.campaigns.urls")),
    path("", include("annotations.suggesting.urls")),
    path("", include("policies.urls")),
]
