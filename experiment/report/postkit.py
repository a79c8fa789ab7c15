"""The post kit, results/<run>/post/: charts to attach, post.md, and the clips.

post.md is filled from the summary by templates/post.md.j2: no number in it is typed by hand. Clips need the UI
recording (GIF per act from UI and dashboard frames, a side-by-side still of Act I vs Act III at
Act I's worst moment) and the first k6 process's cast (rendered to a GIF by `agg` when installed, else by
termrender.py). Whatever can't be made is listed in post/README.md with the reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from ..model.profiles import ARMS_BY_KEY
from ..model.results import RunRecord, Summary, k6_processes_of
from . import render, termrender

FRAME_FPS = 3  # UI/dashboard GIF playback: frames per second (frames were taken every frame_ms)


def write_post(s: Summary, out: Path) -> None:
    """post.md: a short draft post whose numbers all come from the summary (templates/post.md.j2)."""
    out.write_text(render.render("post.md.j2", s))


def _frame_time_ms(path: Path) -> float:
    """A frame's capture time: a 13-digit unix-ms number in its name, else its mtime."""
    match = re.search(r"(\d{13})", path.name)
    return float(match.group(1)) if match else path.stat().st_mtime * 1000


def _frames(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.png"), key=lambda p: (_frame_time_ms(p), p.name)) if directory.is_dir() else []


def _timeline(path: Path) -> list[dict]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def worst_event(events: list[dict]) -> dict | None:
    """The worst moment for a user: a failed request first, then the slowest one."""
    if not events:
        return None
    return max(events, key=lambda e: (not e.get("ok", True), e.get("ms") or 0))


def _nearest_frame(frames: list[Path], t_ms: float) -> Path | None:
    """The first frame taken at or after t_ms (it shows the result), else the last one."""
    for frame in frames:
        if _frame_time_ms(frame) >= t_ms:
            return frame
    return frames[-1] if frames else None


def find_ffmpeg() -> str | None:
    """ffmpeg's path, None when it is not installed (scripts/setup.sh installs it)."""
    return shutil.which("ffmpeg")


def frames_to_gif(ffmpeg: str, frames: list[Path], gif: Path, width: int = 900) -> None:
    listing = gif.with_suffix(".frames.txt")
    listing.write_text("".join(f"file '{f.resolve()}'\nduration {1 / FRAME_FPS:.3f}\n" for f in frames)
                       + f"file '{frames[-1].resolve()}'\n")
    subprocess.run(
        [ffmpeg, "-y", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-vf", f"fps={FRAME_FPS},scale={width}:-1:flags=lanczos,split[a][b];[a]palettegen[p];[b][p]paletteuse",
         "-loop", "0", str(gif)],
        check=True, timeout=300, capture_output=True)
    listing.unlink()


def side_by_side(left: Path, right: Path, labels: tuple[str, str], out: Path) -> None:
    from PIL import Image, ImageDraw

    a, b = Image.open(left).convert("RGB"), Image.open(right).convert("RGB")
    height = max(a.height, b.height)
    bar = 44
    canvas = Image.new("RGB", (a.width + b.width + 16, height + bar), "white")
    canvas.paste(a, (0, bar))
    canvas.paste(b, (a.width + 16, bar))
    draw = ImageDraw.Draw(canvas)
    font = termrender.mono_font(22)
    draw.text((10, 10), labels[0], fill=(160, 20, 20), font=font)
    draw.text((a.width + 26, 10), labels[1], fill=(20, 110, 20), font=font)
    if canvas.width > 2000:  # postable size
        canvas = canvas.resize((2000, round(canvas.height * 2000 / canvas.width)), Image.LANCZOS)
    canvas.save(out)


def render_cast(cast: Path, gif: Path) -> str:
    agg = shutil.which("agg")
    if agg:
        subprocess.run([agg, str(cast), str(gif)], check=True, timeout=600, capture_output=True)
        return "agg"
    termrender.render_gif(cast, gif)
    return "termrender (Pillow)"


def make(run_dir: Path, summary: Summary, charts_dir: Path, chart_files: list[str], recorded: bool) -> list[str]:
    """Build post/; returns notes on what was skipped and why."""
    post = run_dir / "post"
    post.mkdir(exist_ok=True)
    notes: list[str] = []
    made: list[str] = []
    for name in chart_files:
        shutil.copy(charts_dir / name, post / name)
        made.append(name)
    write_post(summary, post / "post.md")
    made.append("post.md")

    first_runs = {key: Path(arm.run_dirs[0]) for key, arm in summary.arms.items() if arm.run_dirs}
    for key in ("shared", "isolated"):
        cast = _first_cast(first_runs[key]) if key in first_runs else None
        if cast and cast.exists():
            try:
                how = render_cast(cast, post / f"k6-{key}.gif")
                made.append(f"k6-{key}.gif ({how})")
            except (OSError, ValueError, subprocess.SubprocessError) as error:
                notes.append(f"k6 clip for {key} not rendered: {error}")

    if not recorded:
        notes.append("UI and dashboard clips, and the side-by-side still, skipped: recording was off (--no-record).")
    else:
        _recording_clips(first_runs, post, made, notes)

    readme = ["# Post kit", "", "Made here:", ""] + [f"- {m}" for m in made]
    if notes:
        readme += ["", "Skipped:", ""] + [f"- {n}" for n in notes]
    (post / "README.md").write_text("\n".join(readme) + "\n")
    return notes


def _first_cast(run_dir: Path) -> Path:
    """The terminal of a run's first k6 process (the whole load's, when one process made it)."""
    path = run_dir / "run.json"
    return run_dir / k6_processes_of(RunRecord.load(path) if path.exists() else None)[0].cast


def _recording_clips(first_runs: dict[str, Path], post: Path, made: list[str], notes: list[str]) -> None:
    have_frames = {key: run / "recording" for key, run in first_runs.items() if _frames(run / "recording" / "ui")}
    if not have_frames:
        notes.append("UI clips skipped: no UI frames were recorded (see each run's record-ui.log and run.json).")
        return
    ffmpeg = find_ffmpeg()
    if not ffmpeg:
        notes.append("UI clips skipped: ffmpeg is not installed (scripts/setup.sh installs it).")
    else:
        for key, rec in have_frames.items():
            for kind in ("ui", "dashboard"):
                frames = _frames(rec / kind)
                if frames:
                    gif = post / f"{kind}-{key}.gif"
                    try:
                        frames_to_gif(ffmpeg, frames, gif)
                        made.append(gif.name)
                    except (subprocess.SubprocessError, OSError) as error:
                        notes.append(f"{gif.name} not made: {error}")
    if "shared" in have_frames and "isolated" in have_frames:
        worst = worst_event(_timeline(have_frames["shared"] / "ui-timeline.jsonl"))
        if worst is None:
            notes.append("side-by-side stills skipped: Act I's UI timeline has no events.")
            return
        # The page shows a load's result once it finished: the first frame after t + ms.
        shown_at = worst["t"] + (worst.get("ms") or 0)
        status = "failed" if not worst.get("ok", True) else f"took {worst.get('ms', 0):.0f} ms"
        for kind in ("ui", "dashboard"):
            shared_frames = _frames(have_frames["shared"] / kind)
            isolated_frames = _frames(have_frames["isolated"] / kind)
            if not shared_frames or not isolated_frames:
                continue
            # The same moment of the schedule in Act III: the same offset from its first frame.
            offset = shown_at - _frame_time_ms(shared_frames[0])
            left = _nearest_frame(shared_frames, shown_at)
            right = _nearest_frame(isolated_frames, _frame_time_ms(isolated_frames[0]) + offset)
            name = "worst-moment.png" if kind == "ui" else "worst-moment-dashboard.png"
            labels = (f"{ARMS_BY_KEY['shared'].act}, shared pool: a todos {worst.get('kind')} {status}",
                      f"{ARMS_BY_KEY['isolated'].act}, per-endpoint pools: same moment")
            side_by_side(left, right, labels, post / name)
            made.append(f"{name} (Act I's worst {worst.get('kind')}, {offset / 1000:.0f} s into the recording)")
