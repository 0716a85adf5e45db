"""Images over REST: upload, list and delete one's own, direct-to-bucket uploads.

Every path goes through `media_store.services`, so the API accepts exactly
what the admin accepts and a refused file leaves neither a row nor an object.
"""

from __future__ import annotations

from uuid import UUID

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from blog_site.api.pagination import PageNumberPagination
from blog_site.api.schema import ERRORS
from media_store import selectors, services
from media_store.api.serializers import (
    DirectConfirmInputSerializer,
    DirectUploadInputSerializer,
    DirectUploadOutputSerializer,
    ImageOutputSerializer,
    ImageUploadSerializer,
)


def _require_upload(request: Request) -> None:
    if not request.user.has_perm("media_store.add_image"):
        raise PermissionDenied(_("You may not upload images."))


class ImageListApi(APIView):
    """The caller's own images, newest first; POST uploads one (multipart)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="images_list",
        responses={
            200: ImageOutputSerializer(many=True),
            **ERRORS.pick(400, 401, 404, 429),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.image_list_uploaded_by(user=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response(
            ImageOutputSerializer(page, many=True).data
        )

    @extend_schema(
        operation_id="images_create",
        request={"multipart/form-data": ImageUploadSerializer},
        responses={201: ImageOutputSerializer, **ERRORS.pick(400, 401, 403, 429, 503)},
    )
    def post(self, request: Request) -> Response:
        _require_upload(request)
        data = ImageUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.image_create(
            file=data.validated_data["file"],
            alt=data.validated_data.get("alt", ""),
            uploader=request.user,
        )
        return Response(
            ImageOutputSerializer(image).data, status=status.HTTP_201_CREATED
        )


class ImageDetailApi(APIView):
    """One of the caller's images; DELETE removes it unless a post uses it."""

    permission_classes = [IsAuthenticated]

    def _image(self, request: Request, pk: UUID):  # type: ignore[no-untyped-def]
        image = selectors.image_get(pk=pk)
        if image is None:
            raise NotFound(_("No such image."))
        mine = image.uploader_id == request.user.pk
        if not (mine or request.user.has_perm("media_store.delete_image")):
            raise PermissionDenied(_("This image is not yours."))
        return image

    @extend_schema(
        operation_id="images_retrieve",
        responses={200: ImageOutputSerializer, **ERRORS.pick(401, 403, 404, 429)},
    )
    def get(self, request: Request, pk: UUID) -> Response:
        return Response(ImageOutputSerializer(self._image(request, pk)).data)

    @extend_schema(
        operation_id="images_destroy",
        responses={
            204: OpenApiResponse(description="Deleted with its stored files"),
            **ERRORS.pick(400, 401, 403, 404, 429),
        },
    )
    def delete(self, request: Request, pk: UUID) -> Response:
        services.image_delete(image=self._image(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageDirectUploadApi(APIView):
    """Step 1 of a direct upload: a presigned POST straight to the bucket.

    POST the file to `url` with `fields` (then the file as `file`), then send
    `token` to the confirm endpoint. Refused (400) when the storage is not S3.
    """

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="images_direct_upload",
        request=DirectUploadInputSerializer,
        responses={
            200: DirectUploadOutputSerializer,
            **ERRORS.pick(400, 401, 403, 429, 503),
        },
    )
    def post(self, request: Request) -> Response:
        _require_upload(request)
        data = DirectUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = services.image_direct_upload_begin(
            uploader=request.user,  # type: ignore[arg-type]
            content_type=data.validated_data["content_type"],
        )
        return Response(upload.as_json())


class ImageDirectConfirmApi(APIView):
    """Step 2 of a direct upload: verify the object and create the image."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="images_direct_confirm",
        request=DirectConfirmInputSerializer,
        responses={201: ImageOutputSerializer, **ERRORS.pick(400, 401, 403, 429, 503)},
    )
    def post(self, request: Request) -> Response:
        _require_upload(request)
        data = DirectConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.image_direct_upload_confirm(
            token=data.validated_data["token"],
            uploader=request.user,  # type: ignore[arg-type]
            alt=data.validated_data.get("alt", ""),
        )
        return Response(
            ImageOutputSerializer(image).data, status=status.HTTP_201_CREATED
        )
