"""Nicknames for the anonymous room: random assignment and the rename rules."""

from __future__ import annotations

import re
import secrets

from django.conf import settings

# As in the source blog: everyone enters under the name of a Korean
# basketball player.
PLAYER_NAMES: tuple[str, ...] = (
    "허재", "허웅", "허훈", "서장훈", "현주엽", "문경은", "이상민", "우지원",
    "전희철", "김주성", "양동근", "김선형", "함지훈", "오세근", "이정현", "양희종",
    "최준용", "송교창", "신동파", "김승현", "방성윤", "하승진", "김민구", "이대성",
    "변준형", "전성현", "김종규", "이승현", "장재석", "최진수", "김태술", "주희정",
    "강동희", "추승균", "조성민", "박찬희", "김시래", "두경민", "이관희", "양홍석",
    "허일영", "김낙현", "이현중", "여준석", "하윤기", "이우석", "문성곤", "라건아",
)  # fmt: skip

# Hangul syllables, Latin letters and digits, with single inner spaces,
# dots, hyphens and underscores; nothing that could pose as markup or as
# another person's name with invisible characters.
_NAME_RE = re.compile(r"^[0-9A-Za-z가-힣](?:[0-9A-Za-z가-힣 ._-]*[0-9A-Za-z가-힣])?\Z")


class InvalidName(ValueError):
    pass


def random_name() -> str:
    return secrets.choice(PLAYER_NAMES)


def clean_name(raw: object) -> str:
    """The name as it will be shown, or InvalidName with the reason."""
    if not isinstance(raw, str):
        raise InvalidName("이름은 문자열이어야 합니다.")
    name = " ".join(raw.split())
    limit = settings.TALK_NAME_MAX_LENGTH
    if not 2 <= len(name) <= limit:
        raise InvalidName(f"이름은 2자 이상 {limit}자 이하여야 합니다.")
    if not _NAME_RE.match(name) or "  " in name:
        raise InvalidName(
            "이름에는 한글, 영문, 숫자와 공백·점·하이픈·밑줄만 쓸 수 있습니다."
        )
    return name


def alternatives(name: str) -> list[str]:
    """Names to try, in order, when `name` is taken in a room."""
    limit = settings.TALK_NAME_MAX_LENGTH
    base = name[: limit - 2]
    return [f"{base}{n}" for n in range(2, 10)] + [
        f"{random_name()}{secrets.randbelow(900) + 100}" for _ in range(5)
    ]
