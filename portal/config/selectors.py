from .models import PortalSettings
from .services import portal_settings_ensure


def portal_settings_get() -> PortalSettings:
    row = PortalSettings.objects.filter(id=PortalSettings.SINGLETON_ID).first()
    return row if row is not None else portal_settings_ensure()
