"""The API's JSON parser: DRF's, bounded in depth (api.md "Limits and refusals")."""

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core.limits import JsonTooDeep, loads_bounded_json


class BoundedJSONParser(JSONParser):
    """JSON nested deeper than MAX_JSON_DEPTH levels is a 400 (DRF's parser would recurse
    until a RecursionError, a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return loads_bounded_json(text)
        except JsonTooDeep as error:
            raise ParseError(str(error)) from error
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
