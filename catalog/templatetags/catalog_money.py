"""{{ cents|money }}: integer cents shown as "19.99"."""

from django import template

from shopsite.money import cents_to_str

register = template.Library()


@register.filter
def money(cents) -> str:
    if cents is None or cents == "":
        return ""
    return cents_to_str(int(cents))
