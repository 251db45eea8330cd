"""The dashboard's home page (other pages live in their apps, under dashboard/)."""

from django.urls import path

from . import views

urlpatterns = [path("dashboard/", views.dashboard_home, name="dashboard-home")]
