import pytest

from talk.names import PLAYER_NAMES, InvalidName, alternatives, clean_name, random_name


def test_random_names_come_from_the_player_list() -> None:
    assert {random_name() for _ in range(50)} <= set(PLAYER_NAMES)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("허웅", "허웅"),
        ("  Curry 30 ", "Curry 30"),
        ("a  b", "a b"),
        ("j.r_k-9", "j.r_k-9"),
    ],
)
def test_valid_names_are_normalised(raw, clean) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a",
        "x" * 17,
        "<b>",
        "허웅!",
        "-dash",
        "zero\u200bwidth",
        "ｆｕｌｌ",
        None,
        3,
    ],
)
def test_invalid_names_are_refused(raw) -> None:
    with pytest.raises(InvalidName):
        clean_name(raw)


def test_alternatives_are_valid_and_distinct(settings) -> None:
    options = alternatives("허" * 16)
    assert len(set(options)) == len(options)
    for option in options:
        assert clean_name(option) == option
