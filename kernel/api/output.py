"""Output serializers whose fields are built once per class.

DRF builds a serializer's fields anew for every instance: it deep-copies the declared fields
(each ``Field.__deepcopy__`` constructs the field again from its arguments) and binds them, for
every object a ``many=True`` list serializes too. On the rush's hot answers (the cart after a
hold, the order after checkout) that was ~5 % of their profile (docs/rush.md, "Checkout
profile", twelfth pass). ``Output`` builds them once per class, bound to a prototype instance, and
every instance reads the same ones.

Only for serializers that answer (``Output(obj).data``), never ones that read input, and whose
fields read nothing from the instance they are bound to: a ``SerializerMethodField``'s method
is called on the prototype, whose ``context`` is empty, and a field sees no ``request``. A class
that chooses its fields at run time (its own ``get_fields``) is refused. Fields are not changed
by serializing, so instances in several threads share them safely.
"""

from __future__ import annotations

import threading

from rest_framework import serializers

_build = threading.Lock()


# No class docstring: drf-spectacular describes each answer's schema with the first docstring
# in its class's ancestry below DRF's own, and this one would stand for every subclass's.
class Output(serializers.Serializer):
    @property
    def fields(self):
        cls = type(self)
        fields = cls.__dict__.get("_shared_fields")
        if fields is None:
            with _build:
                fields = cls.__dict__.get("_shared_fields")
                if fields is None:
                    fields = _build_fields(cls)
                    cls._shared_fields = fields
        return fields

    def to_internal_value(self, data):
        raise TypeError(f"{type(self).__name__} is an output serializer: it reads no input")


def _build_fields(cls):
    if cls.get_fields is not serializers.Serializer.get_fields:
        raise TypeError(f"{cls.__name__} chooses its fields at run time: not an Output")
    proto = cls.__new__(cls)
    serializers.Serializer.__init__(proto)
    # DRF's own construction, once: the declared fields copied and bound to the prototype.
    return serializers.Serializer.fields.func(proto)
