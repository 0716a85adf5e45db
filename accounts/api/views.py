from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import TokenInputSerializer, TokenOutputSerializer
from blog_site.api.schema import ERRORS
from blog_site.throttling import ScopedRateThrottle


class TokenApi(APIView):
    """Exchange a username and password for a token; DELETE revokes it."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def get_permissions(self) -> list:
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    def get_authenticators(self) -> list:
        # Logging in must not need (or trip over) an expired session's CSRF.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer, **ERRORS.pick(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.token_issue(request=request._request, **data.validated_data)
        return Response(TokenOutputSerializer({"token": token.key}).data)

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Token revoked"),
            **ERRORS.pick(401),
        },
    )
    def delete(self, request: Request) -> Response:
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
