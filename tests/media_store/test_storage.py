"""The bucket stays private: ensure_bucket undoes a public policy."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command


@pytest.fixture
def public_object(s3_client: Any) -> Any:
    bucket = settings.S3_BUCKET
    s3_client.put_object(Bucket=bucket, Key="policy-probe/x", Body=b"hello")
    yield f"{settings.S3_ENDPOINT_URL}/{bucket}/policy-probe/x"
    call_command("ensure_bucket")
    s3_client.delete_object(Bucket=bucket, Key="policy-probe/x")


def test_ensure_bucket_removes_a_public_read_policy(
    s3_client: Any, public_object: str
) -> None:
    bucket = settings.S3_BUCKET
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"],
            }
        ],
    }
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    # The server honours policies, so this test can see a public bucket.
    assert httpx.get(public_object).status_code == 200

    call_command("ensure_bucket")

    assert httpx.get(public_object).status_code == 403
    listing = httpx.get(f"{settings.S3_ENDPOINT_URL}/{bucket}?list-type=2")
    assert listing.status_code == 403
    assert "policy-probe" not in listing.text
