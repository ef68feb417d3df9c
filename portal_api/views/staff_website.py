"""Staff API for website integration (``/api/v1/staff/website``): the snippet that shows the
business's class list on its own website, for the options given, and what the options may be;
the console's page over the API (portal.config.website)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from portal.config.inputs import WebsiteEmbedInput, input_validate
from portal.config.website import embed_choices, embed_options_check, embed_snippet

from .base import PortalApi


class WebsiteEmbedChoice(serializers.Serializer):
    id = serializers.CharField(help_text="What the option takes (a program's id, a kind...).")
    name = serializers.CharField()


class StaffWebsiteApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(
        operation_id="staff_website_embed",
        parameters=[WebsiteEmbedInput],
        responses=inline_serializer(
            "WebsiteEmbed",
            {
                "script_url": serializers.CharField(),
                "snippet": serializers.CharField(help_text="The <script> tag to paste."),
                "class_list_url": serializers.CharField(
                    help_text="The same list on the portal, for a plain link."
                ),
                "options": WebsiteEmbedInput(),
                "choices": inline_serializer(
                    "WebsiteEmbedChoices",
                    {
                        "programs": WebsiteEmbedChoice(many=True),
                        "locations": WebsiteEmbedChoice(many=True),
                        "kinds": WebsiteEmbedChoice(many=True),
                        "languages": WebsiteEmbedChoice(many=True),
                    },
                ),
            },
        ),
        description="The website widget's snippet for these options (all optional). Errors: "
        "`invalid_input` (an unknown program or location, a limit outside 1-100).",
    )
    def get(self, request):
        data = {k: v for k, v in request.query_params.items() if v}
        options = input_validate(WebsiteEmbedInput, data)
        embed_options_check(options)
        answer = embed_snippet(origin=self.tenant.url("").rstrip("/"), options=options)
        return Response({**answer, "options": options, "choices": embed_choices()})
