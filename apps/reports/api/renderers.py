"""Reports as CSV (``?format=csv`` or ``Accept: text/csv``): the rows, with a header line of
the JSON rows' names."""

import csv
import io

from rest_framework.renderers import BaseRenderer


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        fields = getattr(view, "csv_fields", ())
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore",
                                lineterminator="\r\n")
        writer.writeheader()
        for row in (data or {}).get("rows", []):
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
        return out.getvalue().encode(self.charset)
