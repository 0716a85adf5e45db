from rest_framework import serializers

from accounts.models import User


class AuthorSerializer(serializers.ModelSerializer):
    """An author's public fields only: never email, staff flags or dates."""

    display_name = serializers.CharField(source="public_name", read_only=True)

    class Meta:
        model = User
        fields = ["username", "display_name"]
        read_only_fields = fields


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
