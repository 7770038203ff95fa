"""The wheel carries every template and migration; ``fixdesk --help`` starts light."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _shipped_files() -> set[str]:
    wanted = set()
    for pattern in ("templates/**/*", "kernel/migrations/**/*", "plugins/*/manifest.toml",
                    "plugins/*/migrations/versions/*.py", "plugins/*/templates/**/*",
                    "kernel/locale/**/*.po", "kernel/locale/*.pot", "plugins/*/locale/**/*.po",
                    "plugins/*/locale/*.pot"):
        for path in ROOT.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                wanted.add(path.relative_to(ROOT).as_posix())
    return wanted


@pytest.mark.slow
def test_wheel_installs_into_a_clean_venv_with_templates_and_migrations(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", tmp_path / "dist", ROOT], check=True, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("fixdesk-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _shipped_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert "kernel/migrations/versions/kernel_0001_master_data.py" in names
    # each package's message catalogue (the kernel merges the plugins' at start)
    assert {"kernel/locale/zh_CN/LC_MESSAGES/fixdesk.po",
            "plugins/repair/locale/zh_CN/LC_MESSAGES/repair.po"} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    target = subprocess.run([python, "-c", purelib], check=True, capture_output=True,
                            text=True).stdout.strip()
    # install the wheel alone; its dependencies come from this venv, read after it
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target,
                    wheel], check=True)
    Path(target, "zz_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([python, "-c", "import kernel, templates; print(kernel.__file__)"],
                           check=True, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.startswith(target)
    created = subprocess.run([venv / "bin" / "python", "-m", "kernel", "new-site",
                              tmp_path / "site", "--demo"],
                             capture_output=True, text=True, env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    check = subprocess.run([python, "-m", "kernel", "--site", tmp_path / "site", "migrate",
                            "--check"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert check.stdout == "schema matches the models\n"


def test_help_does_not_import_heavy_libraries():
    probe = ("import sys; from kernel.cli import main\n"
             "try: main(['--help'])\nexcept SystemExit: pass\n"
             "heavy = [m for m in ('sqlalchemy', 'alembic', 'fastapi', 'uvicorn', 'weasyprint',"
             " 'babel') if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "HEAVY []"
    assert "new-site" in out and "plugins" in out
