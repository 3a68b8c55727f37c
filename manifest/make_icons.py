"""Regenerate the Teams app icons (stdlib only: zlib + struct).

Teams requires two PNGs at the root of the app package:

* ``color.png``   192x192, full colour: a gold star on the Allybot indigo background.
* ``outline.png``  32x32, white on transparent: the same star, white, nothing else.

Run ``python manifest/make_icons.py`` (or ``python -m manifest.make_icons``) from the project root;
the files are written next to ``manifest/teams/manifest.json``.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

RGBA = tuple[int, int, int, int]
Point = tuple[float, float]

TEAMS_DIR = Path(__file__).resolve().parent / "teams"
BRAND = (0x4F, 0x46, 0xE5, 0xFF)  # indigo, same as accentColor in teams/manifest.json
GOLD = (0xFB, 0xBF, 0x24, 0xFF)
WHITE = (0xFF, 0xFF, 0xFF, 0xFF)
TRANSPARENT = (0, 0, 0, 0)
SUBSAMPLES = 4  # per axis: 4x4 samples per pixel for anti-aliased edges


def star(cx: float, cy: float, outer: float, inner_ratio: float = 0.382) -> list[Point]:
    """Vertices of a five-pointed star with one point straight up."""
    points: list[Point] = []
    for i in range(10):
        radius = outer if i % 2 == 0 else outer * inner_ratio
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def inside(x: float, y: float, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting test."""
    result = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            result = not result
        j = i
    return result


def render(polygon: Sequence[Point], fg: RGBA, bg: RGBA) -> Callable[[int, int], RGBA]:
    """Return a pixel function painting ``polygon`` in ``fg`` over ``bg`` with coverage AA."""
    xs = [p[0] for p in polygon]
    ys = [p[1] for p in polygon]
    x0, x1, y0, y1 = min(xs) - 1, max(xs) + 1, min(ys) - 1, max(ys) + 1
    step = 1 / SUBSAMPLES
    offsets = [(a + 0.5) * step for a in range(SUBSAMPLES)]

    def pixel(px: int, py: int) -> RGBA:
        if not (x0 <= px <= x1 and y0 <= py <= y1):
            return bg
        hits = sum(inside(px + dx, py + dy, polygon) for dx in offsets for dy in offsets)
        cover = hits / (SUBSAMPLES * SUBSAMPLES)
        if cover == 0:
            return bg
        if cover == 1:
            return fg
        alpha = fg[3] * cover + bg[3] * (1 - cover)
        if alpha == 0:
            return TRANSPARENT
        # Blend straight (non-premultiplied) colours weighted by their alpha contribution.
        rgb = [
            round((f * fg[3] * cover + b * bg[3] * (1 - cover)) / alpha)
            for f, b in zip(fg[:3], bg[:3], strict=True)
        ]
        return (rgb[0], rgb[1], rgb[2], round(alpha))

    return pixel


def png_bytes(size: int, pixel: Callable[[int, int], RGBA]) -> bytes:
    """Encode a ``size`` x ``size`` 8-bit RGBA PNG (filter type 0 on every row)."""
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # filter: None
        for x in range(size):
            raw.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def color_icon() -> bytes:
    size = 192
    # Star ~120 px tall; nudged down so it looks optically centred (points hang lower).
    outer = 64.0
    shape = star(size / 2, size / 2 + outer * 0.095, outer)
    return png_bytes(size, render(shape, GOLD, BRAND))


def outline_icon() -> bytes:
    size = 32
    # Teams wants no padding around the outline symbol: fill the canvas.
    outer = 16.5
    shape = star(size / 2, size / 2 + outer * 0.095, outer)
    return png_bytes(size, render(shape, WHITE, TRANSPARENT))


def main() -> None:
    TEAMS_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in (("color.png", color_icon()), ("outline.png", outline_icon())):
        (TEAMS_DIR / name).write_bytes(data)
        print(f"wrote {TEAMS_DIR / name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
