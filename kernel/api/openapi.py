"""drf-spectacular postprocessing: every operation documents its error answers.

Each view documents its success response; the errors all share one shape, rendered by
``kernel.api.exception_handler``: ``{"code", "message", "fields"}``. The hook adds that
``Error`` schema as the ``4XX`` response of every operation (kept when a view documents a
specific 4xx itself), so clients and the API fuzzer (tests/fuzz) know what an error looks
like. No 5xx is documented: a server error is a bug."""

from __future__ import annotations

import copy

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error. `code` is stable and machine-readable; `message` is for "
    "people; `fields` maps input names to their problems (empty when the error is not about "
    "particular inputs).",
    "properties": {
        "code": {"type": "string", "example": "invalid_input"},
        "message": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "fields"],
}

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def error_responses(result, generator, request, public):
    from kernel.error_codes import REGISTRY

    components = result.setdefault("components", {}).setdefault("schemas", {})
    schema = copy.deepcopy(ERROR_SCHEMA)
    # Every code the API can answer with (docs/errors.md says what each means).
    schema["properties"]["code"]["enum"] = sorted(REGISTRY)
    components["Error"] = schema
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "4XX",
                {
                    "description": "The request was refused (see `code`).",
                    "content": {"application/json": {"schema": ref}},
                },
            )
    return result


class AutoSchema(SpectacularAutoSchema):
    """Public operations are documented with ``security: []``: those every permission of the
    view lets an anonymous caller through (drf-spectacular lists them as "a token, a session
    or nothing"), and those a permission marks ``allows_visitors`` (the catalog, which the
    business may show to visitors; a visitor it does not gets 401 ``login_required``).

    Names a serializer nested in a view (``SignupApi.Input``) after its view
    (``SignupInput``): the views all call theirs ``Input``, and same-named components would
    otherwise be merged into one, documenting every request body as the first one's."""

    def get_serializer_name(self, serializer, direction):
        cls = serializer if isinstance(serializer, type) else type(serializer)
        outer, _, name = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            name = outer.rpartition(".")[2].removesuffix("Api").removesuffix("View") + name
        elif not outer:
            name = super().get_serializer_name(serializer, direction)
        # The staff API's shapes of the same things (a family, its students, its ledger) are
        # other shapes: named after their module (staff_families.FamilyOutput is
        # StaffFamilyOutput), so they never merge into the family API's components.
        module = cls.__module__.rpartition(".")[2]
        if module.startswith("staff_") and not name.startswith("Staff"):
            name = "Staff" + name
        return name

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and self._is_public(operation):
            operation["security"] = []
        return operation

    def _is_public(self, operation) -> bool:
        if {} in operation.get("security", []):
            return True
        return any(
            getattr(permission, "allows_visitors", False)
            for permission in self.view.get_permissions()
        )
