"""The shared UI pieces: template helpers, the field partial, and the base layout."""

from django import forms
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory


def _render(source: str, path: str = "/", **context) -> str:
    request = RequestFactory().get(path)
    return Template("{% load shopsite_ui %}" + source).render(
        Context({"request": request, **context})
    )


def test_nav_link_marks_the_current_section():
    html = _render(
        '{% nav_link "/dashboard/products/" "Products" %}', "/dashboard/products/1/edit/"
    )
    assert html == '<li><a href="/dashboard/products/" aria-current="page">Products</a></li>'
    html = _render('{% nav_link "/dashboard/products/" "Products" %}', "/dashboard/orders/")
    assert "aria-current" not in html


def test_nav_link_exact_for_home():
    assert "aria-current" in _render(
        '{% nav_link "/dashboard/" "Home" exact=True %}', "/dashboard/"
    )
    assert "aria-current" not in _render(
        '{% nav_link "/dashboard/" "Home" exact=True %}', "/dashboard/sales/"
    )


def test_sort_header_cycles_and_keeps_filters():
    tag = '{% sort_header "price" "Price" %}'
    html = _render(tag, "/dashboard/products/?category=Tea&page=3")
    assert html == (
        '<th scope="col" class="sortable"><a href="?category=Tea&amp;sort=price">Price</a></th>'
    )  # page reset: a new order starts on page 1
    numbers = _render('{% sort_header "stock" "Stock" num=True %}', "/dashboard/products/")
    assert numbers.startswith('<th scope="col" class="sortable num">')  # aligned as its cells
    html = _render(tag, "/dashboard/products/?sort=price&category=Tea")
    assert 'aria-sort="ascending"' in html and "sort=-price" in html
    html = _render(tag, "/dashboard/products/?sort=-price")
    assert 'aria-sort="descending"' in html and "sort=price" in html


def test_status_badge_kinds_and_escaping():
    assert _render("{% status_badge 'ok' %}") == '<span class="badge badge-ok">ok</span>'
    assert 'class="badge badge-failed"' in _render("{% status_badge 'failed' %}")
    running = _render("{% status_badge 'running' %}")
    assert "badge-running" in running and 'aria-busy="true"' in running
    odd = _render("{% status_badge s %}", s="<b>x</b>")
    assert "badge-muted" in odd and "&lt;b&gt;" in odd


class _Form(forms.Form):
    name = forms.CharField(help_text="Shown on the invoice.")


def test_field_partial_ties_errors_and_help_to_the_input():
    form = _Form(data={"name": ""})
    assert not form.is_valid()
    html = render_to_string("includes/field.html", {"field": form["name"]})
    assert '<label for="id_name">Name</label>' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_name_helptext id_name_error"' in html
    assert 'id="id_name_helptext"' in html
    assert 'id="id_name_error"' in html and "This field is required." in html


def test_base_layout_flash_messages_and_skip_link(rf, db):
    request = rf.get("/accounts/login/")
    request.session = {}
    storage = FallbackStorage(request)
    storage.add(constants.SUCCESS, "Saved the lamp.")
    storage.add(constants.ERROR, "Could not reach mongodb.")
    request._messages = storage
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    html = render_to_string("base.html", {"messages": storage}, request=request)
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert 'class="flash flash-success" role="status">Saved the lamp.' in html
    assert 'class="flash flash-error" role="alert">Could not reach mongodb.' in html
    assert "vendor/pico-2.1.1/pico.min.css" in html
    assert "htmx" in html
    assert 'aria-label="Main"' in html and "Log out" not in html  # anonymous: no user menu
