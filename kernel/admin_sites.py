"""Two admin sites: the platform's (root host, public schema) and the businesses' (every tenant
host, the tenant's schema). Each model is registered on the site whose schema holds it, so a
tenant's staff never see platform tables and the platform admin never sees portal tables."""

from django.contrib.admin import AdminSite


class PlatformAdminSite(AdminSite):
    site_header = "Platform administration"
    site_title = "Platform admin"
    index_title = "Tenants and platform users"


# Its own instance named "admin" so the admin's URL names resolve in the public URL map.
platform_admin_site = PlatformAdminSite(name="admin")
