"""The post kit, results/<run>/post/: charts to attach, post.md, and the clips.

post.md is filled from summary.json by code: no number in it is typed by hand. Clips need the UI
recording (GIF per act from UI and dashboard frames, a side-by-side still of Act I vs Act III at
Act I's worst moment) and the k6 cast (rendered to a GIF by `agg` when installed, else by
termrender.py). Whatever can't be made is listed in post/README.md with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from . import summary as fmt
from . import termrender
from .profiles import ARMS_BY_KEY
from .shape import mix_text

FRAME_FPS = 3  # UI/dashboard GIF playback: frames per second (frames were taken every frame_ms)


def write_post(summary_path: Path, out: Path) -> None:
    """post.md: a short draft post whose numbers all come from summary.json."""
    s = json.loads(summary_path.read_text())
    h, m, lab, rates = s["headline"], s["machine"], s["lab"], s["rates"]
    arms = s["arms"]

    def pools(key: str) -> str:
        return ", ".join(f"{n} for {pool.replace('_', ' ')}" for pool, n in sorted(arms[key]["pools"].items()))

    lines = []
    banner = fmt.contamination_banner(s)
    if banner:
        lines += [f"> **{banner}** Do not publish these numbers as they are.", ""]
    lines += ["**You didn't add power. You added boundaries.**", ""]
    lines.append(
        f"I put a small Rust todo service (axum + deadpool-postgres + Postgres) under bursty traffic on a "
        f"{m.get('cores')}-core machine: {rates['base_rps']} req/s, with bursts of {rates['burst_rps']} req/s — "
        f"{mix_text('plain')}. Same load, same data, three configurations.")
    c = s.get("calibration")
    if c:
        lines += ["", (
            f"The rates weren't picked by hand. Before the runs, a slow probe measured how long a request holds "
            f"a database connection: {c['mean_hold_ms']:.1f} ms on average, so {c['connections']} connections can "
            f"serve at most {c['capacity_rps']:.0f} requests a second (Little's law). The bursts ask for "
            f"{s['profile']['burst_x']:g}x that; between them, {s['profile']['base_x']:g}x.")]
    if "shared" in arms:
        lines += ["", (
            f"Act I — one shared pool of {arms['shared']['pool_size']} connections for every endpoint. During the "
            f"bursts, GET /todos p95 went from {fmt.ms(h['read_baseline_p95_ms']['shared'])} to "
            f"{fmt.ms(h['read_burst_p95_ms']['shared'])}, and {fmt.pct(h['read_error_rate']['shared'])} of reads "
            f"failed. "
            f"Up to {fmt.num(h['pool_max_waiters']['shared'])} requests waited for a connection, "
            f"{fmt.num(h['pool_acquire_timeouts']['shared'])} gave up. The service's busiest second used "
            f"{fmt.cores(h['service_cpu_peak_cores']['shared'])} of {m.get('cores')} cores: it wasn't working, "
            f"it was waiting.")]
    if "isolated" in arms:
        lines += ["", (
            f"Act III — the same {arms['isolated']['pool_size']} connections, split per endpoint "
            f"({pools('isolated')}). "
            f"GET /todos p95 during bursts: {fmt.ms(h['read_burst_p95_ms']['isolated'])} as k6 saw it, "
            f"{fmt.ms(h['read_server_burst_p95_ms']['isolated'])} inside the service (Act I: "
            f"{fmt.ms(h['read_server_burst_p95_ms'].get('shared'))}), with "
            f"{fmt.pct(h['read_error_rate']['isolated'])} of reads failing. The price is paid by the writes, "
            f"which now queue only behind writes: their p95 during bursts went from "
            f"{fmt.ms(h['write_burst_p95_ms'].get('shared'))} to {fmt.ms(h['write_burst_p95_ms']['isolated'])}, "
            f"and their error rate from {fmt.pct(h['write_error_rate'].get('shared'))} to "
            f"{fmt.pct(h['write_error_rate']['isolated'])}.")]
    if "shared-3x" in arms:
        lines += ["", (
            f"And \"why not just a bigger pool?\" — one shared pool of {arms['shared-3x']['pool_size']} connections: "
            f"read p95 during bursts {fmt.ms(h['read_burst_p95_ms']['shared-3x'])} "
            f"({fmt.pct(h['read_error_rate']['shared-3x'])} failed), write p95 "
            f"{fmt.ms(h['write_burst_p95_ms']['shared-3x'])} ({fmt.pct(h['write_error_rate']['shared-3x'])} failed), "
            f"Postgres peaked at {fmt.cores(h['postgres_cpu_peak_cores']['shared-3x'])} cores. Here the "
            f"database had room to spare, so more connections helped every endpoint"
            + _control_verdict_words(s) + ".")]
    lines += ["", (
        f"Setup: {m.get('cores')} cores, {m.get('memory_gib')} GiB; Postgres behind a {lab['delay_ms']} ms proxy "
        f"(a database a few milliseconds away); {fmt.cpu_sets_text(s).rstrip('.')}; "
        f"Argon2 at {lab['argon2_memory_kib']} KiB / {lab['argon2_iterations']} iteration so hashing isn't the "
        f"bottleneck; k6 for load; {s['repeats']} run(s) per configuration ({s['run_id']}).")]
    lines += ["", "#rust #postgres #performance #backend", "", "---", "",
              "Checked against the data (not part of the post):", ""]
    for v in s["verdicts"]:
        held = f" ({v['held_in']}/{v['judged']} repeats)" if s["repeats"] > 1 else ""
        lines.append(f"- {v['sign']}: **{v['verdict']}**{held} — {v['evidence']}")
    lines += ["", "Every repeat (GET /todos p95 in bursts, k6 / inside the service; read errors):", ""]
    for row in fmt.repeat_rows(s):
        lines.append(f"- rep {row[0]}, {row[1]}: {row[2]} / {row[3]}; {row[5]} errors; CPU in bursts: {row[7]}")
    out.write_text("\n".join(lines) + "\n")


def _control_verdict_words(s: dict) -> str:
    """What the control showed about reads, in the words its verdict allows (no claim it denies)."""
    control = next((v for v in s["verdicts"] if v.get("key") == "boundaries_beat_power"), None)
    if control is None:
        return ""
    if control["verdict"] == "yes":
        return "; the per-endpoint pools still kept reads the fastest"
    held = f"in only {control['held_in']} of {control['judged']} runs" if control["held_in"] else "in no run"
    return (f", reads included: the per-endpoint pools kept reads faster {held}. What boundaries buy is "
            f"that reads stop depending on the database having room for three times the connections")


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


def ensure_ffmpeg() -> str | None:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300)
            subprocess.run(["apt-get", "install", "-y", "-qq", "ffmpeg"], capture_output=True, timeout=600,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.TimeoutExpired):
        return None
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
    font = termrender._font(22)
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


def make(run_dir: Path, summary: dict, charts_dir: Path, chart_files: list[str], recorded: bool) -> list[str]:
    """Build post/; returns notes on what was skipped and why."""
    post = run_dir / "post"
    post.mkdir(exist_ok=True)
    notes: list[str] = []
    made: list[str] = []
    for name in chart_files:
        shutil.copy(charts_dir / name, post / name)
        made.append(name)
    write_post(run_dir / "summary.json", post / "post.md")
    made.append("post.md")

    first_runs = {key: Path(arm["run_dirs"][0]) for key, arm in summary["arms"].items() if arm["run_dirs"]}
    for key in ("shared", "isolated"):
        cast = first_runs.get(key, Path("/nonexistent")) / "k6.cast"
        if cast.exists():
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


def _recording_clips(first_runs: dict[str, Path], post: Path, made: list[str], notes: list[str]) -> None:
    have_frames = {key: run / "recording" for key, run in first_runs.items() if _frames(run / "recording" / "ui")}
    if not have_frames:
        notes.append("UI clips skipped: no UI frames were recorded (see each run's record-ui.log and run.json).")
        return
    ffmpeg = ensure_ffmpeg()
    if not ffmpeg:
        notes.append("UI clips skipped: ffmpeg is not available.")
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
