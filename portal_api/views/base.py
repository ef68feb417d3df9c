from __future__ import annotations

from django.db import connection
from rest_framework import permissions
from rest_framework.views import APIView

from kernel.client_address import client_address
from portal.accounts.selectors import guardian_for_user
from portal.config.selectors import portal_settings_get

from ..permissions import CatalogVisible, IsFamilyMember


def client_ip(request) -> str | None:
    return client_address(request)


class PortalApi(APIView):
    """Base of the tenant API: gives views the portal settings and the tenant."""

    permission_classes = [permissions.AllowAny]

    @property
    def portal(self):
        return portal_settings_get(self.request._request)

    @property
    def tenant(self):
        return connection.tenant

    def family_of_requester(self):
        guardian = guardian_for_user(self.request.user)
        return guardian.family if guardian else None


class FamilyApi(PortalApi):
    permission_classes = [IsFamilyMember]


class CatalogApi(PortalApi):
    permission_classes = [CatalogVisible]
