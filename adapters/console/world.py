"""The simulated workspace the console starts with."""

from __future__ import annotations

from dataclasses import dataclass

WORKSPACE = "acme"
BOT = "allybot"


@dataclass(frozen=True, slots=True)
class Person:
    handle: str
    name: str
    tz: str
    is_bot: bool = False


PEOPLE = {
    p.handle: p
    for p in (
        Person("ana", "Ana Lopez", "Europe/Paris"),
        Person("bo", "Bo Chen", "America/New_York"),
        Person("cy", "Cy Sato", "Asia/Tokyo"),
        Person("dee", "Dee Okafor", "Africa/Lagos"),
        Person(BOT, "Allybot", "UTC", is_bot=True),
        Person("deploybot", "Deploybot", "UTC", is_bot=True),
    )
}
CHANNELS = ("general", "help", "kudos")
ADMIN = "ana"


def dm_channel(handle: str) -> str:
    return f"dm-{handle}"
