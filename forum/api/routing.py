"""Routes as Discourse serves them: every path answers with and without the ``.json`` suffix."""
from flask import Blueprint


def json_route(bp: Blueprint, rule: str, **options):
    def decorator(view):
        bp.add_url_rule(f"{rule}.json", view_func=view, **options)
        bp.add_url_rule(rule, view_func=view, **options)
        return view

    return decorator
