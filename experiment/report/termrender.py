"""Renders an asciinema cast to an animated GIF with Pillow, when no renderer (agg) is installed.

A deliberately small terminal: printable text, CR, LF, backspace, and the CSI sequences k6 uses to
redraw its progress bars (cursor moves, erase line/screen); colours and other escapes are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..model.cast import read_cast

_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class Screen:
    def __init__(self, cols: int, rows: int):
        self.cols, self.rows = cols, rows
        self.lines = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0

    def _scroll(self) -> None:
        self.lines.pop(0)
        self.lines.append([" "] * self.cols)

    def _newline(self) -> None:
        self.y += 1
        if self.y >= self.rows:
            self._scroll()
            self.y = self.rows - 1

    def feed(self, text: str) -> None:
        pos = 0
        for match in _ESCAPE.finditer(text):
            self._text(text[pos:match.start()])
            self._escape(match.group(1))
            pos = match.end()
        self._text(text[pos:])

    def _text(self, text: str) -> None:
        for ch in text:
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self._newline()
            elif ch == "\b":
                self.x = max(0, self.x - 1)
            elif ch == "\t":
                self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)
            elif ch >= " ":
                if self.x >= self.cols:
                    self.x = 0
                    self._newline()
                self.lines[self.y][self.x] = ch
                self.x += 1

    def _escape(self, seq: str) -> None:
        if not seq.startswith("["):
            return
        final, params = seq[-1], seq[1:-1].lstrip("?")
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        n = nums[0] if nums and nums[0] else 1
        if final == "A":
            self.y = max(0, self.y - n)
        elif final == "B":
            self.y = min(self.rows - 1, self.y + n)
        elif final == "C":
            self.x = min(self.cols - 1, self.x + n)
        elif final == "D":
            self.x = max(0, self.x - n)
        elif final == "G":
            self.x = min(self.cols - 1, n - 1)
        elif final == "F":
            self.y, self.x = max(0, self.y - n), 0
        elif final == "E":
            self.y, self.x = min(self.rows - 1, self.y + n), 0
        elif final in "Hf":
            row = nums[0] if nums and nums[0] else 1
            col = nums[1] if len(nums) > 1 and nums[1] else 1
            self.y, self.x = min(self.rows, row) - 1, min(self.cols, col) - 1
        elif final == "K":
            mode = nums[0] if nums else 0
            line = self.lines[self.y]
            span = range(self.x, self.cols) if mode == 0 else range(0, self.x + 1) if mode == 1 else range(self.cols)
            for i in span:
                if i < self.cols:
                    line[i] = " "
        elif final == "J":
            mode = nums[0] if nums else 0
            if mode == 0:
                self._escape("[0K")
                for y in range(self.y + 1, self.rows):
                    self.lines[y] = [" "] * self.cols
            elif mode in (2, 3):
                self.lines = [[" "] * self.cols for _ in range(self.rows)]

    def text(self) -> list[str]:
        return ["".join(line).rstrip() for line in self.lines]


def mono_font(size: int):
    """DejaVu Sans Mono at `size` px (matplotlib ships it), else Pillow's default font."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default()


def render_gif(cast_path: Path, gif_path: Path, step_s: float = 0.5, max_frames: int = 240,
               font_size: int = 14, speed: float = 1.0) -> int:
    """Render the cast's screen every `step_s` seconds into an animated GIF; returns the frame count."""
    header, events = read_cast(cast_path)
    cols, rows = header.get("width", 80), header.get("height", 24)
    if not events:
        raise ValueError("empty cast")
    end = events[-1][0]
    step = max(step_s, end / max_frames)
    font = mono_font(font_size)
    cw, ch = font.getlength("M"), int(font_size * 1.3)
    # Only as many rows as the recording ever used, so the GIF has no empty bottom half.
    screen, frames, index, t = Screen(cols, rows), [], 0, 0.0
    snapshots = []
    while t <= end + step:
        while index < len(events) and events[index][0] <= t:
            screen.feed(events[index][1])
            index += 1
        snapshots.append(screen.text())
        t += step
    used = max((i for snap in snapshots for i, line in enumerate(snap) if line), default=0) + 1
    width, height = int(cols * cw) + 24, used * ch + 24
    for snap in snapshots:
        image = Image.new("RGB", (width, height), (24, 26, 33))
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(snap[:used]):
            draw.text((12, 12 + i * ch), line, font=font, fill=(220, 223, 228))
        frames.append(image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16))
    durations = [int(step * 1000 / speed)] * len(frames)
    durations[-1] = 3000  # hold the final summary
    frames[0].save(gif_path, save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=True)
    return len(frames)
