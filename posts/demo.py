# ruff: noqa: E501 - the demo posts are prose; a paragraph is one line.
"""Demo content for the run command: a few posts, categories and diagrams.

Everything here is written for this project (no outside text); the pictures
are drawn with Pillow. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw

from media_store.models import Image
from posts import services
from posts.models import Post
from posts.permissions import groups_ensure

NAMESPACE = uuid.UUID("5b0d7e4e-6a0f-4b36-9d0e-2f4a3c1b9e71")


def _diagram(title: str, boxes: list[str], hue: tuple[int, int, int]) -> bytes:
    """Boxes joined by arrows, left to right, with a title bar."""
    width, height = 960, 400
    img = PILImage.new("RGB", (width, height), (247, 248, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, 56), fill=hue)
    draw.text((24, 18), title, fill=(255, 255, 255))
    step = (width - 80) // len(boxes)
    for i, label in enumerate(boxes):
        left = 40 + i * step
        box = (left, 150, left + step - 60, 260)
        draw.rounded_rectangle(
            box, radius=14, outline=hue, width=4, fill=(255, 255, 255)
        )
        draw.text((left + 18, 196), label, fill=(30, 30, 30))
        if i < len(boxes) - 1:
            y = 205
            draw.line((box[2] + 4, y, box[2] + 52, y), fill=(90, 90, 90), width=4)
            draw.polygon(
                [(box[2] + 56, y), (box[2] + 44, y - 8), (box[2] + 44, y + 8)],
                fill=(90, 90, 90),
            )
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


IMAGES: dict[str, dict[str, Any]] = {
    "cluster": {
        "alt": "두 대의 노트북으로 만든 k3s 클러스터 구성도",
        "draw": ("k3s cluster", ["laptop A: server", "laptop B: agent", "traefik"], (11, 92, 173)),
    },
    "request": {
        "alt": "Request path: browser, proxy, page cache, Django, MariaDB",
        "draw": ("request path", ["browser", "traefik", "page cache", "django", "mariadb"], (22, 130, 93)),
    },
    "search": {
        "alt": "바이그램 토큰으로 한국어를 색인하는 과정",
        "draw": ("bigram search", ["text", "bigrams", "hex tokens", "FULLTEXT"], (170, 70, 30)),
    },
}  # fmt: skip


def _image(key: str, uploader: Any) -> Image:
    from media_store.services import image_create

    spec = IMAGES[key]
    image_id = uuid.uuid5(NAMESPACE, key)
    existing = Image.objects.filter(pk=image_id).first()
    if existing is not None:
        return existing
    return image_create(
        file=_diagram(*spec["draw"]),
        alt=spec["alt"],
        uploader=uploader,
        image_id=image_id,
    )


POSTS: list[dict[str, Any]] = [
    {
        "title": "노트북 두 대로 만든 홈 쿠버네티스 클러스터",
        "slug": "home-k3s-cluster",
        "category": "쿠버네티스",
        "tags": ["쿠버네티스", "k3s", "홈랩"],
        "thumbnail": "cluster",
        "days_ago": 30,
        "body": """집에 굴러다니던 노트북 두 대로 작은 쿠버네티스 클러스터를 만들었다. 전기를 적게 쓰고, 배터리가 UPS 역할도 해 준다.

## 구성

<img alt="두 대의 노트북으로 만든 k3s 클러스터 구성도" src="/images/{cluster}"/>

| 노드 | 역할 | 메모리 |
|:--|:--|--:|
| 노트북 A | k3s server | 16GB |
| 노트북 B | k3s agent | 8GB |

## 설치

k3s는 설치 스크립트 하나로 끝난다[^1].

```bash
curl -sfL https://get.k3s.io | sh -
sudo k3s kubectl get nodes
```

## 네임스페이스 나누기

서비스마다 네임스페이스를 따로 두면 권한과 자원을 나눠 관리하기 쉽다.

[^1]: 기본으로 traefik과 containerd가 함께 설치된다.
""",
    },
    {
        "title": "Serving cached pages without entering Django",
        "slug": "serving-cached-pages",
        "category": "Python",
        "tags": ["django", "asgi", "cache"],
        "thumbnail": "request",
        "days_ago": 12,
        "body": """Most requests to a blog ask for the same few pages. Answering them from memory, before Django's synchronous machinery starts, is the cheapest speed-up there is.

## The request path

<img alt="Request path: browser, proxy, page cache, Django, MariaDB" src="/images/{request}"/>

## Invalidation

Every write bumps one version number in Redis; each process compares its cached pages against it at most a few times a second.

````python
def content_version_bump() -> None:
    redis.incr("page-cache:version")
````

> A cache that can serve a draft is worse than no cache.
""",
    },
    {
        "title": "한국어 검색을 MariaDB에서 만들기",
        "slug": "korean-search-on-mariadb",
        "category": "데이터베이스",
        "tags": ["mariadb", "검색", "한국어"],
        "thumbnail": "search",
        "days_ago": 5,
        "body": """MariaDB의 FULLTEXT 인덱스는 띄어쓰기로 단어를 나눈다. 그래서 `데이터베이스를`로 저장된 글은 `데이터베이스`로 찾을 수 없다.

## 바이그램

글자를 두 개씩 겹쳐 잘라 색인하면 조사가 붙어 있어도 찾을 수 있다.

<img alt="바이그램 토큰으로 한국어를 색인하는 과정" src="/images/{search}"/>

```python
def bigrams(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)]
```

## 최소 토큰 길이

InnoDB는 세 글자보다 짧은 토큰을 버린다. 그래서 토큰을 16진수로 바꿔 저장한다.
""",
    },
    {
        "title": "페이지 교체 알고리즘 정리",
        "slug": "page-replacement",
        "category": "운영체제/컴퓨터구조",
        "tags": ["운영체제"],
        "thumbnail": None,
        "days_ago": 2,
        "body": """물리 메모리가 가득 찼을 때 어떤 페이지를 내보낼지 정하는 방법들을 정리했다.

## FIFO

가장 먼저 들어온 페이지를 내보낸다. 구현은 쉽지만 자주 쓰는 페이지도 쫓겨난다.

## LRU

가장 오랫동안 쓰지 않은 페이지를 내보낸다.

```python
from collections import OrderedDict

class LRU(OrderedDict):
    def touch(self, page: int) -> None:
        self.move_to_end(page)
```
""",
    },
]


def load_demo_content(*, admin: Any) -> int:
    """Create the demo author, categories, images and posts; returns posts created."""
    groups_ensure()
    user_model = get_user_model()
    author, made = user_model.objects.get_or_create(
        username="bdg",
        defaults={
            "email": "bdg@example.org",
            "display_name": "bdg",
            "bio": "작은 서버에서 블로그를 직접 운영하며 배운 것을 적습니다.",
            "is_staff": True,
        },
    )
    if made:
        author.set_unusable_password()
        author.save()
        author.groups.add(*Group.objects.filter(name="Authors"))
    images = {key: _image(key, admin) for key in IMAGES}
    created = 0
    now = timezone.now()
    for spec in POSTS:
        if Post.objects.filter(slug=spec["slug"]).exists():
            continue
        with transaction.atomic():
            services.post_create(
                author=author,
                title=spec["title"],
                slug=spec["slug"],
                body=spec["body"].format(**{k: v.pk for k, v in images.items()}),
                category=services.category_get_or_create(name=spec["category"]),
                thumbnail=images[spec["thumbnail"]] if spec["thumbnail"] else None,
                tags=spec["tags"],
                status=Post.Status.PUBLISHED,
                published_at=now - dt.timedelta(days=spec["days_ago"]),
                created_at=now - dt.timedelta(days=spec["days_ago"]),
            )
        created += 1
    return created
