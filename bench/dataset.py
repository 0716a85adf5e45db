"""The benchmark's data set: the seed post plus generated Korean and English posts.

Files are written in the source blog's format (Markdown with YAML front
matter, images named by their UUID), so the data goes in through the
project's own `import_posts` command, exactly as a self-hoster's would.
Generation is deterministic (a fixed random seed): two runs import the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.procs import REPO

SEED_IMAGE_RE = re.compile(r"/images/([0-9a-f-]{36})")
THUMBNAIL_RE = re.compile(r"^thumbnail:\s*([0-9a-f-]{36})\s*$", re.M)
TITLE_RE = re.compile(r'^title:\s*"?(.*?)"?\s*$', re.M)

CATEGORIES = [
    "쿠버네티스",
    "운영체제/컴퓨터구조",
    "네트워크",
    "데이터베이스",
    "파이썬",
    "장고",
    "알고리즘",
    "회고",
    "도커",
    "리눅스",
    "Kubernetes",
    "Python",
    "Django",
    "Networking",
    "Databases",
    "Observability",
    "Security",
    "Frontend",
    "DevOps",
    "Notes",
]

KO_NOUNS = (
    "쿠버네티스 네임스페이스 컨테이너 파드 서비스 인그레스 노드 클러스터 스토리지 "
    "데이터베이스 인덱스 트랜잭션 캐시 레디스 메시지 큐 스케줄러 프로세스 스레드 "
    "메모리 커널 파일시스템 네트워크 패킷 라우터 프록시 인증서 배포 파이프라인 "
    "로그 모니터링 지표 알림 백업 복구 장애 성능 지연시간 처리량 설정 환경변수 "
    "이미지 레지스트리 빌드 테스트 코드 리뷰 함수 클래스 모듈 패키지 의존성 버전"
).split()
KO_PARTICLES = ["는", "가", "를", "에서", "으로", "와", "의", "에", "도", "만"]
KO_VERBS = [
    "확인했다",
    "설정한다",
    "배포했다",
    "정리했다",
    "살펴본다",
    "비교했다",
    "개선했다",
    "측정했다",
    "구성한다",
    "공부했다",
    "적용했다",
    "바꿨다",
]
EN_WORDS = (
    "cluster namespace container pod service ingress node storage database index "
    "transaction cache redis message queue scheduler process thread memory kernel "
    "filesystem network packet router proxy certificate deploy pipeline log metric "
    "alert backup restore outage latency throughput config variable image registry "
    "build test review function class module package dependency version kustomize "
    "helm operator controller replica rollout probe volume secret"
).split()
EN_VERBS = [
    "checked",
    "configured",
    "deployed",
    "measured",
    "compared",
    "improved",
    "rewrote",
    "tuned",
    "reviewed",
]
CODE_SAMPLES = [
    (
        "yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: blog\n"
        "spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n"
        "        - name: web\n          image: registry.local/blog:{n}\n",
    ),
    (
        "python",
        "def handler(request, slug):\n    post = post_get(slug=slug)\n"
        "    if post is None:\n        raise Http404(slug)\n"
        "    return render(request, 'post.html', {{'post': post, 'n': {n}}})\n",
    ),
    (
        "bash",
        "kubectl -n blog rollout status deploy/web\n"
        "kubectl -n blog logs -l app=web --tail={n}\n",
    ),
    (
        "sql",
        "SELECT id, title FROM posts_post\nWHERE status = 'published'\n"
        "ORDER BY published_at DESC\nLIMIT {n};\n",
    ),
]


@dataclass(frozen=True, slots=True)
class Dataset:
    posts_dir: Path
    images_dir: Path
    posts: int
    images: int
    categories: int
    seed_title: str | None


def seed_dir() -> Path | None:
    """The shared seed posts: ../shared/seed beside the repository, or /work/shared."""
    for candidate in (REPO.parent / "shared" / "seed", Path("/work/shared/seed")):
        if candidate.is_dir() and any(candidate.glob("*.md")):
            return candidate
    return None


def _ko_sentence(rng: random.Random) -> str:
    words = [
        rng.choice(KO_NOUNS) + rng.choice(KO_PARTICLES)
        for _ in range(rng.randint(4, 9))
    ]
    return " ".join(words) + " " + rng.choice(KO_VERBS) + "."


def _en_sentence(rng: random.Random) -> str:
    words = [rng.choice(EN_WORDS) for _ in range(rng.randint(6, 14))]
    words.insert(rng.randint(1, len(words) - 1), rng.choice(EN_VERBS))
    return " ".join(words).capitalize() + "."


def _body(rng: random.Random, korean: bool, images: list[str], n: int) -> str:
    sentence = _ko_sentence if korean else _en_sentence
    headings = (
        ["배경", "구성", "설정", "측정", "정리", "참고"]
        if korean
        else ["Background", "Setup", "Configuration", "Measurements", "Summary"]
    )
    parts: list[str] = []
    for section, heading in enumerate(rng.sample(headings, k=rng.randint(3, 5))):
        parts.append(f"### {heading}")
        for _ in range(rng.randint(2, 4)):
            parts.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 6))))
        if section == 1 and images:
            image = rng.choice(images)
            parts.append(f'<img alt="{heading}" src="/images/{image}"/>')
        if section == 2:
            language, code = rng.choice(CODE_SAMPLES)
            parts.append(f"```{language}\n{code.format(n=n)}```")
        if section == 3:
            parts.append("\n".join(f"- {sentence(rng)}" for _ in range(4)))
    return "\n\n".join(parts) + "\n"


def _image_bytes(index: int, rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    width, height = rng.choice([(1280, 720), (1600, 900), (1024, 768), (800, 600)])
    base = Image.linear_gradient("L").resize((width, height))
    color = Image.merge(
        "RGB",
        (
            base,
            base.rotate(90).resize((width, height)),
            Image.new("L", (width, height), index % 256),
        ),
    )
    draw = ImageDraw.Draw(color)
    for k in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.rectangle(
            (x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)),
            fill=(rng.randrange(256), rng.randrange(256), (index * 7 + k) % 256),
        )
    # The index in the pixels keeps every image's bytes (and sha256) unique.
    draw.text((10, 10), f"bench image {index}", fill=(255, 255, 255))
    out = io.BytesIO()
    if index % 5 == 0:
        color.save(out, "PNG", optimize=False)
    else:
        color.save(out, "JPEG", quality=82)
    return out.getvalue()


def generate(
    root: Path, *, posts: int = 1000, images: int = 300, categories: int = 20
) -> Dataset:
    """Write `posts` Markdown files (the seed first) and `images` images under root."""
    rng = random.Random(8)  # noqa: S311 - reproducible test data, not security
    posts_dir, images_dir = root / "posts", root / "images"
    posts_dir.mkdir(parents=True, exist_ok=True)
    images_dir.mkdir(parents=True, exist_ok=True)

    seed_files = sorted(seed_dir().glob("*.md")) if seed_dir() else []
    seed_images: list[str] = []
    seed_title = None
    for path in seed_files[:posts]:
        text = path.read_text(encoding="utf-8")
        (posts_dir / path.name).write_text(text, encoding="utf-8")
        seed_images += SEED_IMAGE_RE.findall(text) + THUMBNAIL_RE.findall(text)
        title = TITLE_RE.search(text)
        seed_title = seed_title or (title.group(1) if title else None)
    seed_images = list(dict.fromkeys(seed_images))

    image_ids = seed_images[:images]
    while len(image_ids) < images:
        image_ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    for index, image_id in enumerate(image_ids):
        (images_dir / image_id).write_bytes(_image_bytes(index, rng))

    names = CATEGORIES[:categories]
    start = dt.datetime(2021, 1, 1, 9, 0, tzinfo=dt.UTC)
    for n in range(len(seed_files[:posts]), posts):
        korean = n % 5 != 0 and n % 5 != 3  # about 60% Korean, 40% English
        category = names[n % len(names)]
        topic = rng.choice(KO_NOUNS if korean else EN_WORDS)
        title = (
            f"{topic} 실전 노트 {n:04d}: {rng.choice(KO_NOUNS)} 정리"
            if korean
            else f"Field notes {n:04d}: {topic} and {rng.choice(EN_WORDS)}"
        )
        created = start + dt.timedelta(hours=n * 17, minutes=rng.randrange(60))
        body = _body(rng, korean, image_ids, n)
        front = "\n".join(
            [
                "---",
                "layout: post",
                f"thumbnail: {rng.choice(image_ids)}",
                f'title: "{title}"',
                f"createdAt: {created:%Y-%m-%d %H:%M:%S}.000000",
                f"updatedAt: {created + dt.timedelta(days=1):%Y-%m-%d %H:%M:%S}.000000",
                f'category: "{category}"',
                "---",
            ]
        )
        (posts_dir / f"{created:%Y-%m-%d}-bench-{n:04d}.md").write_text(
            front + "\n" + body, encoding="utf-8"
        )
    return Dataset(
        posts_dir=posts_dir,
        images_dir=images_dir,
        posts=posts,
        images=len(image_ids),
        categories=len(names),
        seed_title=seed_title,
    )
