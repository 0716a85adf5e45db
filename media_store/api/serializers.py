"""Image shapes for REST clients (field names as in issue 6)."""

from __future__ import annotations

from rest_framework import serializers

from media_store import processing
from media_store.models import Image


class ImageOutputSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        source="get_absolute_url", help_text="/images/<uuid>: redirects to the file"
    )
    markdown = serializers.CharField(help_text="Snippet that shows it in a post body")

    class Meta:
        model = Image
        fields = ["id", "url", "width", "height", "format", "size", "alt", "markdown"]
        read_only_fields = fields


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, GIF or WebP")
    alt = serializers.CharField(max_length=300, required=False, allow_blank=True)


class DirectUploadInputSerializer(serializers.Serializer):
    content_type = serializers.ChoiceField(
        choices=sorted(set(processing.CONTENT_TYPES.values()))
    )


class DirectUploadOutputSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="Always `post`")
    url = serializers.CharField(help_text="Where to POST the file (the bucket)")
    fields = serializers.DictField(
        child=serializers.CharField(),
        help_text="Form fields to send before the file, as given",
    )
    token = serializers.CharField(help_text="Send to the confirm endpoint afterwards")
    max_bytes = serializers.IntegerField()


class DirectConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=2000)
    alt = serializers.CharField(max_length=300, required=False, allow_blank=True)
