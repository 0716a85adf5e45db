"""Draw the site's icons (favicon.ico, PNGs for the manifest, the SVG) with Pillow.

Run once after changing the design: `.venv/bin/python scripts/make_icons.py`.
The outputs are committed under static/icons/. The mark is geometry only (a
lowercase "b" from a bar and a ring on the accent colour), so it needs no font.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
ACCENT = "#0b5cad"
WHITE = "#ffffff"
# Geometry on a 64-unit grid, shared by the SVG and the bitmaps.
BAR = (17, 12, 27, 52)  # x0, y0, x1, y1
RING = (32, 36, 13, 6)  # cx, cy, outer radius, stroke width
SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="{ACCENT}"/>
<rect x="{BAR[0]}" y="{BAR[1]}" width="{BAR[2] - BAR[0]}" height="{BAR[3] - BAR[1]}"
 rx="2" fill="{WHITE}"/>
<circle cx="{RING[0]}" cy="{RING[1]}" r="{RING[2] - RING[3] / 2}" fill="none"
 stroke="{WHITE}" stroke-width="{RING[3]}"/>
</svg>
"""


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    """Draw four times larger, then scale down: Pillow does not anti-alias shapes."""
    return _draw(size * 4, maskable=maskable).resize((size, size), Image.LANCZOS)


def _draw(size: int, *, maskable: bool) -> Image.Image:
    scale = size / 64
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        # Maskable icons fill the square; launchers cut their own shape.
        pen.rectangle((0, 0, size, size), fill=ACCENT)
    else:
        pen.rounded_rectangle(
            (0, 0, size - 1, size - 1), radius=14 * scale, fill=ACCENT
        )
    inset = 0.8 if maskable else 1.0  # keep the mark inside the maskable safe zone

    def at(value: float, centre: float = 32) -> float:
        return (centre + (value - centre) * inset) * scale

    pen.rounded_rectangle(
        (at(BAR[0]), at(BAR[1]), at(BAR[2]), at(BAR[3])), radius=2 * scale, fill=WHITE
    )
    cx, cy, radius, stroke = RING
    pen.ellipse(
        (at(cx - radius), at(cy - radius), at(cx + radius), at(cy + radius)),
        outline=WHITE,
        width=max(1, round(stroke * scale * inset)),
    )
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(SVG)
    draw(192).save(OUT / "icon-192.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-512.png", optimize=True)
    draw(180, maskable=True).convert("RGB").save(
        OUT / "apple-touch-icon.png", optimize=True
    )
    draw(64).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])


if __name__ == "__main__":
    main()
