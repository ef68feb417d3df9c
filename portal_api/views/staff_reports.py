"""Staff API for reports: each as JSON (typed columns and rows) or as a CSV download."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.api.query import query_choice
from portal.reports.selectors import REPORTS, report_run

from .base import PortalApi

PARAMS = [
    OpenApiParameter("group_by", str, enum=["program", "offering", "level", "student"],
                     description="enrollment: program, offering, level; attendance: offering, "
                                 "student"),
    OpenApiParameter("offering", int, description="attendance: one class"),
    OpenApiParameter("kind", str, enum=["class", "camp", "event"],
                     description="enrollment, fill-rate, waitlist"),
    OpenApiParameter("program", int, description="enrollment, fill-rate, waitlist"),
    OpenApiParameter("current", str, enum=["1", "0"],
                     description="1 (default): classes not yet ended; 0: all"),
    OpenApiParameter("from", str, description="revenue: YYYY-MM; drops, attendance: YYYY-MM-DD"),
    OpenApiParameter("to", str, description="revenue: YYYY-MM; drops, attendance: YYYY-MM-DD"),
    OpenApiParameter("status", str, description="drops: pending, approved, denied, cancelled"),
]  # fmt: skip


def _params(request) -> dict[str, str]:
    """The query as the report service takes it, the documented enums checked first (an
    empty ``kind=`` is refused here as the schema says; the console's blank field means any)."""
    params = request.query_params
    for parameter in PARAMS:
        if parameter.enum:
            query_choice(params, parameter.name, parameter.enum)
    return params.dict()


class ColumnOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="text, int, money, percent, date or month")


class ReportOutput(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    currency = serializers.CharField()
    params = serializers.DictField(child=serializers.CharField())
    columns = ColumnOutput(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="One object per row, keyed by column; money as decimal strings (12.50).",
    )


def _json(report) -> dict:
    rows = []
    for row in report.rows:
        out = dict(row)
        for column in report.columns:
            if column.kind in ("money", "month"):
                out[column.key] = report.cell(row, column)
        rows.append(out)
    return {
        "name": report.name,
        "title": report.title,
        "currency": report.currency,
        "params": report.params,
        "columns": [vars(c) for c in report.columns],
        "rows": rows,
    }


class ReportListApi(PortalApi):
    permission_classes = [staff_permission("view_reports")]

    @extend_schema(
        operation_id="staff_reports",
        responses=serializers.ListSerializer(child=serializers.CharField()),
        description="The names of the reports: `GET /staff/reports/{name}` (JSON) and "
        "`GET /staff/reports/{name}/csv`. Attendance is not among them yet (no attendance "
        "records exist).",
    )
    def get(self, request):
        return Response(list(REPORTS))


class ReportApi(PortalApi):
    permission_classes = [staff_permission("view_reports")]

    @extend_schema(
        operation_id="staff_report",
        parameters=PARAMS,
        responses=ReportOutput,
        description="One report: enrollment, fill-rate, revenue, waitlist, drops or attendance. "
        "`report_not_found` (404), `invalid_filter` (400).",
    )
    def get(self, request, name: str):
        report = report_run(name=name, params=_params(request))
        return Response(_json(report))


class ReportCsvApi(PortalApi):
    permission_classes = [staff_permission("view_reports")]

    @extend_schema(
        operation_id="staff_report_csv",
        parameters=PARAMS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The same report as a CSV file (money in the currency, like 12.50).",
    )
    def get(self, request, name: str):
        report = report_run(name=name, params=_params(request))
        response = HttpResponse(report.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report.name}.csv"'
        return response
