"""Random container names in Docker's adjective_surname style, with a Korean touch:
the surnames are people from Korean science and letters (Docker uses scientists too).
"""
from __future__ import annotations

import random

ADJECTIVES = (
    "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "kind",
    "lucid", "merry", "nimble", "patient", "quiet", "sharp", "steady", "sunny",
    "tender", "vivid", "wise", "bold", "cheerful", "curious", "friendly",
)
# Sejong (Hangul), Jang Yeong-sil (water clock), Heo Jun (Donguibogam), Choe Mu-seon
# (gunpowder), Yi Sun-sin, Jeong Yak-yong (Hwaseong), Kim Jeong-ho (Daedongyeojido),
# Seondeok (Cheomseongdae), Hwang Jini, Heo Nanseolheon, Yun Dong-ju, Lee Hwi-so
# (Benjamin W. Lee, physicist), Woo Jang-choon (botanist), Shin Saimdang, Yi Hwang, ...
SURNAMES = (
    "sejong", "jangyeongsil", "heojun", "choemuseon", "yisunsin", "jeongyakyong",
    "kimjeongho", "seondeok", "hwangjini", "nanseolheon", "yundongju", "leehwiso",
    "woojangchoon", "saimdang", "yihwang", "yiyi", "kimjeonghui", "damjing", "wonhyo",
    "uisang", "choechiwon", "yijehyeon", "seokjuhong", "kimmandeok",
)


def random_name(rng: random.Random | None = None) -> str:
    rng = rng or random
    return f"{rng.choice(ADJECTIVES)}_{rng.choice(SURNAMES)}"
