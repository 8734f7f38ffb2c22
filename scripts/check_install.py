#!/usr/bin/env python3
"""Build klikbot's wheel, install it into a fresh venv outside the checkout, and run every
command the README and docs/ document once, from another directory, against a temporary SQLite
database. Fails (exit 1) if any command fails: the package must work without its checkout.

`scripts/test` runs it after the suite (so `.ci/run` does); by hand:
`.venv/bin/python scripts/check_install.py [--keep]`. Needs only the standard library, pip and
the package index (the wheel's dependencies). `klikbot serve` is started for real and stopped
with SIGTERM once `/healthz` answers. `klikbot cards render` must draw the gallery where Chromium
and npm are installed (npm fetches the renderer into a fresh cache directory), and otherwise
fail with a one-line message naming what is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the wheel is built from: nothing else of the checkout may matter.
SOURCES = ("pyproject.toml", "README.md", "bot", "dialogs", "storage")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info", "build", "dist")
TENANT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
APP_ID = "6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e90"
TIMEOUT = 900.0  # seconds for one command (cards render may install the renderer with npm)


def copy_sources(destination: Path, root: Path = ROOT) -> Path:
    """A clean copy of what the wheel is built from (no build/, node_modules or caches)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        else:
            shutil.copy2(source, destination / name)
    return destination


def _step(argv: list[str]) -> None:
    """Run a build or install step quietly; on failure its output is shown and the check fails."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        print((done.stdout + done.stderr).strip(), file=sys.stderr)
        raise subprocess.CalledProcessError(done.returncode, argv)


def build_wheel(work: Path, python: str = sys.executable, root: Path = ROOT) -> Path:
    """`pip wheel --no-deps` from a clean copy of the checkout; returns the wheel's path."""
    source = copy_sources(work / "src", root)
    wheels = work / "wheel"
    _step([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)])
    (wheel,) = wheels.glob("klikbot-*.whl")
    return wheel


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without klikbot's settings or credentials (a `.env` is not read either:
    the commands run in a directory of their own); KLIKBOT_CHROMIUM, where Chromium is, stays."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "KLIKBOT_CHROMIUM" or not k.startswith(("KLIKBOT_", "Microsoft", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


@dataclass
class Check:
    argv: list[str]
    stdin: str = ""
    returncode: int = 0
    stdout_has: list[str] = field(default_factory=list)
    stderr_has: list[str] = field(default_factory=list)
    # More to check once it ran (files written); returns a problem or None.
    after: Callable[[], str | None] | None = None

    @property
    def shown(self) -> str:
        return " ".join(["klikbot", *self.argv])


def _zip_holds(path: Path, names: set[str]) -> Callable[[], str | None]:
    def check() -> str | None:
        if not path.is_file():
            return f"{path} was not written"
        with zipfile.ZipFile(path) as package:
            found = set(package.namelist())
        return None if found == names else f"{path} holds {sorted(found)}, not {sorted(names)}"

    return check


def _exists(path: Path) -> Callable[[], str | None]:
    return lambda: None if path.is_file() and path.stat().st_size > 0 else f"{path} was not written"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_check(klikbot: Path, check: Check, cwd: Path, env: dict[str, str]) -> str | None:
    """Run one command; returns what went wrong, or None."""
    done = subprocess.run(
        [str(klikbot), *check.argv],
        input=check.stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    problems = []
    if done.returncode != check.returncode:
        problems.append(f"exit {done.returncode}, expected {check.returncode}")
    if "Traceback" in done.stderr:
        problems.append("a traceback")
    problems += [f"no {text!r} in its output" for text in check.stdout_has if text not in done.stdout]
    problems += [f"no {text!r} in its errors" for text in check.stderr_has if text not in done.stderr]
    if not problems and check.after is not None:
        problem = check.after()
        if problem:
            problems.append(problem)
    if not problems:
        return None
    tail = "\n".join(f"    | {line}" for line in (done.stderr or done.stdout).strip().splitlines()[-15:])
    return "; ".join(problems) + ("\n" + tail if tail else "")


def run_serve(klikbot: Path, cwd: Path, env: dict[str, str]) -> str | None:
    """`klikbot serve --demo` until /healthz answers 200, then SIGTERM: it must exit 0."""
    port = _free_port()
    log = cwd / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(klikbot), "serve", "--demo", "--port", str(port), "--log-format", "text"],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        problem: str | None = "/healthz never answered 200 within 60 s"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    if response.status == 200:
                        problem = None
                        break
            except OSError:
                time.sleep(0.2)  # not listening yet: poll again
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            if problem is None and code != 0:
                problem = f"exit {code} after SIGTERM, expected 0"
        elif problem is not None:
            problem = f"exited with {process.returncode} before /healthz answered"
    text = log.read_text(errors="replace")
    if problem is None and "Traceback" in text:
        problem = "a traceback in its log"
    if problem is None:
        return None
    return problem + "\n" + "\n".join(f"    | {line}" for line in text.strip().splitlines()[-15:])


def checks(work: Path, python: Path, renderer_available: bool) -> list[Check]:
    demo = subprocess.run(
        [
            str(python),
            "-c",
            "from importlib.resources import files; print(files('storage') / 'data/demo.yaml')",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=work,
    ).stdout.strip()
    statuses = work / "klik-eksport.csv"
    statuses.write_text(
        "kommunekode,opgave_id,status,ændret,ændret_af\n"
        "630,mbp-kontaktpunkt-incident,Fuldført,2019-01-24T10:12:00+01:00,Mette Vinther\n",
        encoding="utf-8",
    )
    cards = Check(["cards", "render", "--output", "gallery"], after=_exists(work / "gallery" / "index.html"))
    if not renderer_available:  # it must say what is missing, in one line, and fail
        cards = Check(["cards", "render", "--output", "gallery"], returncode=2, stderr_has=["klikbot: "])
    return [
        Check(["--help"], stdout_has=["serve", "manifest", "tenants"]),
        Check(["serve", "--help"], stdout_has=["--demo", "--port"]),
        Check(["db", "upgrade"], stdout_has=["latest schema"]),
        Check(
            ["chat", "--demo", "--municipality", "Vejle"],
            stdin="hjælp\nhvilke opgaver mangler vi?\n",
            stdout_has=["Udpeg kontaktpunkt"],
        ),
        Check(["chat", "--demo", "--admin"], stdin="overblik\n", stdout_has=["Fuldført"]),
        Check(["tenants", "add", TENANT, "Vejle"], stdout_has=["speaks for Vejle (630)"]),
        Check(["tenants", "list"], stdout_has=[TENANT]),
        Check(["tenants", "remove", TENANT]),
        Check(["import", demo, "--dry-run"]),
        Check(["import", demo]),
        Check(["import-statuses", str(statuses)]),
        Check(["export", "statuses"], stdout_has=["kommunekode", "mbp-kontaktpunkt-incident"]),
        Check(["export", "statuses", "--output", "statuses.xlsx"], after=_exists(work / "statuses.xlsx")),
        Check(
            ["manifest", "build", "--app-id", APP_ID, "--domain", "klikbot.example.dk", "--version", "1.0.0"],
            stdout_has=["wrote"],
            after=_zip_holds(
                work / "dist" / "klikbot-teams-app.zip",
                {"manifest.json", "en.json", "color.png", "outline.png"},
            ),
        ),
        cards,
    ]


def renderer_available(env: dict[str, str]) -> bool:
    """Chromium and npm are here, so `cards render` must draw the gallery."""
    path = env.get("PATH")
    configured = env.get("KLIKBOT_CHROMIUM", "").strip()
    if configured:
        chromium = Path(configured).is_file()
    else:
        names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        chromium = any(shutil.which(name, path=path) for name in names)
    return chromium and shutil.which("npm", path=path) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--python", default=os.environ.get("PYTHON", "python3"), help="the interpreter of the fresh venv"
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="klikbot-install-"))
    try:
        print(f"building the wheel and installing it into a fresh venv in {work}", flush=True)
        wheel = build_wheel(work)
        venv = work / "venv"
        _step([args.python, "-m", "venv", str(venv)])
        _step([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
        run = work / "run"  # outside the checkout, no .env
        run.mkdir()
        env = clean_env(
            KLIKBOT_DATABASE_URL=f"sqlite+aiosqlite:///{run / 'klikbot.db'}",
            XDG_CACHE_HOME=str(work / "cache"),  # cards render installs its renderer afresh
        )
        klikbot = venv / "bin" / "klikbot"
        failed = 0
        for check in checks(run, venv / "bin" / "python", renderer_available(env)):
            problem = run_check(klikbot, check, run, env)
            failed += problem is not None
            print(
                f"{'ok  ' if problem is None else 'FAIL'} {check.shown}" + (f": {problem}" if problem else "")
            )
        problem = run_serve(klikbot, run, env)
        failed += problem is not None
        print(
            f"{'ok  ' if problem is None else 'FAIL'} klikbot serve --demo"
            + (f": {problem}" if problem else "")
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError) as error:
        print(f"FAIL: could not build or install the wheel: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"{failed} documented command(s) failed from an installed wheel", file=sys.stderr)
        return 1
    print("every documented command works from an installed wheel")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
