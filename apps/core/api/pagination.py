"""Bounded plain lists: resources that were unpaginated arrays stay arrays, at most
``?limit`` rows from ``?offset``, with the next rows linked in a ``Link: <...>; rel="next"``
header (RFC 8288). No count query: one row more than asked tells whether there are more."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.core.limits import MAX_ID

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def bounded_int(request, name: str, *, default: int, minimum: int, maximum: int | None = None,
                largest: int = MAX_ID):
    """A whole-number query parameter from ``minimum`` to ``largest`` (a bigint; beyond it a
    400, like anything that is not a number); above ``maximum`` it is capped."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # (the length first: int() of thousands of digits is refused)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(largest))
            and minimum <= int(raw) <= largest):
        raise ValidationError({name: [
            _("Must be a whole number from %(minimum)d to %(largest)d.")
            % {"minimum": minimum, "largest": largest}
        ]})
    value = int(raw)
    return min(value, maximum) if maximum is not None else value


class BoundedListPagination(BasePagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = bounded_int(
            request, "limit", default=self.default_limit, minimum=1, maximum=self.max_limit
        )
        self.offset = bounded_int(request, "offset", default=0, minimum=0)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, data):
        response = Response(data)
        if self.has_next:
            url = self.request.build_absolute_uri()
            url = replace_query_param(url, "offset", self.offset + self.limit)
            url = replace_query_param(url, "limit", self.limit)
            response["Link"] = f'<{url}>; rel="next"'
        return response

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit", "in": "query", "required": False,
                "description": f"At most this many rows (default {self.default_limit}; "
                               f"more than {self.max_limit} is capped).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            },
            {
                "name": "offset", "in": "query", "required": False,
                "description": "Skip this many rows (the Link header's next page sets it).",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            },
        ]
