"""A learner's JupyterLab as book/getting_started.md sets it up: nbgrader's instructor tools off, Korean on offer.

The commands are read from the page itself (step 2), so that this test breaks when the page drifts, and
run as a learner runs them, in an activated virtual environment, here a throwaway one: a venv made in a
temporary folder that sees this interpreter's packages (a .pth file), has its own ``etc/jupyter`` (the
server configuration that pip's install of nbgrader and JupyterLab wrote, copied) and this installation's
``share/jupyter`` (JupyterLab's app and the lab extensions), with user-level Jupyter folders of its own.
``--level=sys_prefix`` and ``--sys-prefix`` therefore write into the throwaway venv, never into .venv or
~/.jupyter. Then ``jupyter lab`` runs in it on a local port and is asked, as a browser would be:

- the page configuration disables every nbgrader lab plugin but ``validate-assignment`` (the list of
  plugins is read from nbgrader's installed bundle, so a new nbgrader plugin fails this test until the
  page decides about it);
- the instructor server extensions answer 404 (``/formgrader``, ``/formgraders``, ``/assignments``) and the
  validate extension still answers;
- the translations API lists ko_KR (the language pack pinned in requirements.txt) and serves its strings;
- in Debian's chromium: no *Nbgrader* menu and no formgrader or create-assignment command, the *Validate*
  plugin active, and *Settings > Language* offering 한국어 (대한민국); choosing it as the page says
  (then *Change and reload*) gives a JupyterLab whose menu bar reads 설정 (the page's way back).

Why Validate stays: nbgrader's documentation presents it as the student's check ("Restart kernel and run all
cells ... which the validate button implements", user guide, *highlights*); it needs no exchange and runs
nothing but the learner's own notebook. The Assignment List goes although nbgrader documents it for
students too, because it fetches and submits through an nbgrader exchange, which this course does not use.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import secrets
import shlex
import shutil
import site
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "book" / "getting_started.md"
KEPT_LAB_PLUGIN = "@jupyter/nbgrader:validate-assignment"
KEPT_SERVER_EXTENSION = "nbgrader.server_extensions.validate_assignment"

pytestmark = pytest.mark.slow  # starts JupyterLab (and chromium): about ten seconds


def page_commands() -> list[str]:
    """The lines of the page's bash blocks that turn nbgrader's extensions off."""
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M)
    commands = [line.strip() for block in blocks for line in block.splitlines()
                if re.match(r"\s*jupyter (labextension|server extension) disable\b", line)]
    assert len(commands) == 2, f"expected the two disable commands in {PAGE.name}'s bash blocks, found {commands}"
    return commands


def _installed(dist: str, suffix: str) -> Path:
    """Where pip put a data file of ``dist`` (under the environment's prefix, outside site-packages)."""
    for file in importlib.metadata.distribution(dist).files or ():
        if str(file).replace("\\", "/").endswith(suffix):
            return Path(importlib.metadata.distribution(dist).locate_file(file)).resolve()
    raise AssertionError(f"{dist} installed no {suffix}")


def nbgrader_lab_plugins() -> set[str]:
    bundle = _installed("nbgrader", "labextensions/@jupyter/nbgrader/package.json").parent / "static"
    plugins = {m for js in bundle.glob("*.js") for m in re.findall(r'"(@jupyter/nbgrader:[a-z-]+)"', js.read_text())}
    assert KEPT_LAB_PLUGIN in plugins and "@jupyter/nbgrader:formgrader" in plugins, plugins
    return plugins


def nbgrader_server_extensions() -> dict[str, bool]:
    config = json.loads(_installed("nbgrader", "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text())
    return config["ServerApp"]["jpserver_extensions"]


def _throwaway_venv(root: Path) -> tuple[Path, dict[str, str]]:
    """A venv under ``root`` with this interpreter's packages and this installation's Jupyter data; (bin, env)."""
    server_d = _installed("nbgrader", "etc/jupyter/jupyter_server_config.d/nbgrader.json").parent
    prefix = server_d.parent.parent.parent
    lab_app = _installed("jupyterlab", "share/jupyter/lab/static/package.json").parent.parent
    assert lab_app == prefix / "share" / "jupyter" / "lab", (lab_app, prefix)

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    packages = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    seen = [p for p in sys.path if p and Path(p).is_dir() and "site-packages" in p]
    (packages / "_course_packages.pth").write_text("\n".join(dict.fromkeys(seen + site.getsitepackages())) + "\n")
    # What pip's install wrote into etc/jupyter (the *.d folders), nothing a developer changed since.
    for folder in prefix.joinpath("etc", "jupyter").glob("*.d"):
        shutil.copytree(folder, env_dir / "etc" / "jupyter" / folder.name)
    (env_dir / "share").mkdir()
    os.symlink(prefix / "share" / "jupyter", env_dir / "share" / "jupyter", target_is_directory=True)
    # The console scripts a learner's `jupyter ...` runs, bound to the throwaway venv's python (as pip writes them).
    for dist in ("jupyter_core", "jupyterlab", "jupyter_server"):
        for entry in importlib.metadata.distribution(dist).entry_points:
            if entry.group == "console_scripts":
                script = bin_dir / entry.name
                script.write_text(f"#!{python}\nimport sys\nfrom {entry.module} import {entry.attr}\n"
                                  f"sys.exit({entry.attr}())\n")
                script.chmod(0o755)
    home = root / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "PYTHON")) and k not in ("VIRTUAL_ENV", "JUPYTERLAB_DIR")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(env_dir), HOME=str(home),
               JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_PLATFORM_DIRS="0")
    return bin_dir, env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory):
    """JupyterLab, in a throwaway venv where the page's commands ran: (base URL, token, commands' output)."""
    root = tmp_path_factory.mktemp("learner-lab")
    bin_dir, env = _throwaway_venv(root)
    nbgrader_json = json.loads((bin_dir.parent / "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text())
    assert all(nbgrader_json["ServerApp"]["jpserver_extensions"].values()), "pip's install enables nbgrader's extensions"
    ran = []
    for command in page_commands():
        result = subprocess.run(shlex.split(command), env=env, cwd=root, capture_output=True, text=True, timeout=120)
        ran.append(f"$ {command}\n{result.stdout}{result.stderr}")
        assert result.returncode == 0, ran[-1]
    # They wrote into the venv (its sys_prefix), not into the user-level folder.
    assert (bin_dir.parent / "etc/jupyter/labconfig/page_config.json").is_file(), ran
    assert not [p for p in (root / "home").rglob("*") if p.is_file()], ran

    port, token = _free_port(), secrets.token_hex(16)
    (root / "work").mkdir()
    log = open(root / "lab.log", "w+")
    lab = subprocess.Popen(
        ["jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root / 'work'}",
         "--LabApp.expose_app_in_browser=True", *(["--allow-root"] if os.name != "nt" and os.geteuid() == 0 else [])],
        env=env, cwd=root / "work", stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            log.seek(0)
            assert lab.poll() is None and time.monotonic() < deadline, f"jupyter lab did not start:\n{log.read()}"
            time.sleep(0.2)
        yield base, token, "\n".join(ran)
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()


def test_page_turns_off_nbgrader_instructor_tools_and_jupyterlab_offers_korean(learner_lab):
    base, token, ran = learner_lab
    status, html = _get(f"{base}/lab?token={token}")
    assert status == 200, html[:500]
    config = json.loads(re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  html, flags=re.S).group(1))
    disabled = {name for name in config["disabledExtensions"] if name.startswith("@jupyter/nbgrader")}
    assert disabled == nbgrader_lab_plugins() - {KEPT_LAB_PLUGIN}, (
        f"every nbgrader lab plugin but {KEPT_LAB_PLUGIN} should be off; off: {sorted(disabled)}\n{ran}")
    assert any(e["name"] == "@jupyter/nbgrader" for e in config["federated_extensions"]), "nbgrader's lab extension is installed"

    # Server side: the instructor's handlers are gone, the learner's validate handler answers.
    for path in ("/formgrader", "/formgraders", "/assignments"):
        assert _get(f"{base}{path}?token={token}")[0] == 404, f"{path} still served\n{ran}"
    status, body = _get(f"{base}/nbgrader_version?version=0&token={token}")
    assert status == 200, "nbgrader's validate extension should still be loaded"
    # The page turns off every nbgrader server extension that pip's install enabled, but the learner's.
    [server_command] = [c for c in page_commands() if c.startswith("jupyter server")]
    turned_off = {word for word in shlex.split(server_command) if word.startswith("nbgrader.")}
    assert turned_off == set(nbgrader_server_extensions()) - {KEPT_SERVER_EXTENSION}, server_command

    # The Korean language pack: pinned, installed, listed by JupyterLab's translations API, with strings.
    pin = re.search(r"^jupyterlab-language-pack-ko-kr==(\S+)", (REPO / "requirements.txt").read_text(), flags=re.M)
    assert pin, "requirements.txt pins jupyterlab-language-pack-ko-kr"
    assert importlib.metadata.version("jupyterlab-language-pack-ko-kr") == pin.group(1)
    status, body = _get(f"{base}/lab/api/translations/?token={token}")
    languages = json.loads(body)["data"]
    assert status == 200 and languages.get("ko_KR", {}).get("nativeName") == "한국어 (대한민국)", languages
    status, body = _get(f"{base}/lab/api/translations/ko_KR?token={token}")
    strings = json.loads(body)["data"]["jupyterlab"]
    assert strings.get("Settings") == ["설정"] and strings.get("menu\x04Language") == ["언어"], (
        "the page names 설정 → 언어 as the way back to English")


# Runs in JupyterLab once it has started (window.jupyterapp: --LabApp.expose_app_in_browser).
APP_STATE = """() => {
  const app = window.jupyterapp;
  const commands = app.commands.listCommands();
  return {
    menus: [...document.querySelectorAll('#jp-MainMenu .lm-MenuBar-itemLabel')].map(e => e.textContent),
    nbgraderCommands: commands.filter(c => c.startsWith('nbgrader:')),
    validateActive: app.isPluginActivated('@jupyter/nbgrader:validate-assignment'),
  };
}"""


def test_learner_jupyterlab_in_chromium(learner_lab):
    from tests.test_book_in_browser import _chromium

    chromium = _chromium()  # Debian's chromium: skipped without it, failed in CI
    from playwright.sync_api import sync_playwright

    base, token, ran = learner_lab
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(f"{base}/lab?token={token}")
            tab.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=60_000)
            tab.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Settings").wait_for(timeout=60_000)
            state = tab.evaluate("async () => { await window.jupyterapp.restored; return true; }") and tab.evaluate(APP_STATE)
            assert "Nbgrader" not in state["menus"], (state, ran)
            # nbgrader's commands that are left are only those the Validate button does without a menu.
            assert not [c for c in state["nbgraderCommands"] if "formgrader" in c or "create-assignment" in c
                        or "assignment-list" in c or "course-list" in c], (state, ran)
            assert state["validateActive"], state

            # The page's way to Korean: Settings → Language → Korean (South Korea) - 한국어 (대한민국), Change and reload.
            tab.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Settings").click()
            tab.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Language$")).click()
            korean = tab.locator(".lm-Menu-itemLabel", has_text="한국어 (대한민국)")
            assert korean.inner_text() == "Korean (South Korea) - 한국어 (대한민국)"
            korean.click()
            tab.get_by_role("button", name="Change and reload").click()
            tab.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="설정").wait_for(timeout=60_000)
            assert "Nbgrader" not in tab.evaluate(APP_STATE)["menus"]
        finally:
            browser.close()
    assert not errors, errors
