"""REST API authentication: personal tokens (Bearer) and the browser session (with CSRF)."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from oagweb.services import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser:
        # Raises Unauthorized for a wrong or revoked token: its message tells the client why.
        user = api_token_authenticate(raw=token)
        request.user = user
        return user


API_AUTH = [ApiTokenAuth(), django_auth]
