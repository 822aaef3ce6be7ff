import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oagweb.settings")
django_asgi_app = get_asgi_application()

# Imported after the app is built: consumers import models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from agents.consumers import ChatConsumer  # noqa: E402
from oagweb.consumers import ActivityConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/teams/<int:team_id>/activity/", ActivityConsumer.as_asgi()),
    path("ws/conversations/<int:conversation_id>/", ChatConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
