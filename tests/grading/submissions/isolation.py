"""Attacks on the sandbox's trust boundary (``grader/sandbox.py``): one submission, one trust domain.

Each attack is written as a cheat that pays only if the boundary breaks: the
notebook keeps the correct functions only when its attack worked (it saw
another process, read the warm interpreter's descriptors or ``/tmp``, kept a
key or a file from an earlier job, made memory outside ``--memory``, started
3,000 threads...), and otherwise replaces them with wrong ones. So each must
score 0, whatever the reading of the cells (``policy.py``) says of its imports.
The others break the channel (a 200,000-deep JSON line, invalid UTF-8, a
forged ``exit``, a 70 MB line, stray lines): that job ends as tampering (or
"output too large") with no points, and the rest of the batch grades as usual.
"""
from __future__ import annotations

from tests.grading.submissions.common import Case, folder_case, solution
from tests.grading.submissions.normalization import A, WRONG

# the channel: the one descriptor above 2 that is a pipe (the job holds nothing else)
CHANNEL = ("import os\n_fds = [int(f) for f in os.listdir('/proc/self/fd') if int(f) > 2]\n"
           "_channel = [f for f in _fds if os.path.exists(f'/proc/self/fd/{f}') "
           "and os.readlink(f'/proc/self/fd/{f}').startswith('pipe:')]\n")


def _write_all(expression: str) -> str:
    return CHANNEL + (f"_line = {expression}\nfor _fd in _channel:\n    _view = memoryview(_line)\n"
                      "    while _view:\n        _view = _view[os.write(_fd, _view):]\n")


def cheat_if(attack: str) -> dict:
    """The solution, whose functions stay right only if ``attack`` set ``ok`` (else they are the wrong ones)."""
    nb = solution(A)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in WRONG:
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            prefix = ("ok = False\ntry:\n" + "".join("    " + line + "\n" for line in attack.splitlines())
                      + "except Exception:\n    ok = False\n") if grade_id == "min_max_scale" else ""
            fallback = "if not ok:\n" + "".join("    " + line + "\n" for line in WRONG[grade_id].splitlines())
            cell["source"] = prefix + text + "\n" + fallback
    return nb


def breaks_channel(write: str) -> dict:
    """The solution, with a cell that writes ``write`` on the channel first (every function right)."""
    nb = solution(A)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "min_max_scale":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = write + "\n" + text
    return nb


ESCAPES = {
    "iso-proc1-fd": "import os\nok = len(os.listdir('/proc/1/fd')) > 0",
    "iso-proc1-root-tmp": "import os\nok = os.path.isdir('/proc/1/root/tmp')",
    "iso-other-pids": "import os\nok = any(n.isdigit() for n in os.listdir('/proc')) or os.getppid() > 0",
    "iso-signal-zygote": "import os\nos.kill(2, 0)\nok = True",
    "iso-keyring-add": ("import ctypes\n_libc = ctypes.CDLL(None)\n"
                        "ok = _libc.syscall(248, b'user', b'iso', b'x', 1, -3) > 0"),
    "iso-keyring-read": ("import ctypes\n_libc = ctypes.CDLL(None)\n"
                         "ok = _libc.syscall(249, b'user', b'iso', None, -3) > 0"),
    "iso-memfd-3g": "import os\n_fd = os.memfd_create('x')\nos.ftruncate(_fd, 3 << 30)\nok = True",
    "iso-dev-shm": "open('/dev/shm/iso', 'wb').write(b'x' * 1000)\nok = True",
    "iso-tmp-from-earlier-job": "import os\nok = os.path.exists('/tmp/iso-mark') or os.path.exists('/tmp/home/iso-mark')",
    "iso-leave-tmp-mark": "open('/tmp/iso-mark', 'w').write('x')\nopen('/tmp/home/iso-mark', 'w').write('x')\nok = False",
    "iso-threads-3000": ("import threading\n_stop = threading.Event()\n"
                         "for _ in range(3000):\n    threading.Thread(target=_stop.wait, daemon=True).start()\n"
                         "_stop.set()\nok = True"),
    "iso-job-socket": ("import os\nok = any(os.readlink(f'/proc/self/fd/{f}').startswith('socket:') "
                       "for f in os.listdir('/proc/self/fd') if os.path.exists(f'/proc/self/fd/{f}'))"),
}

CHANNEL_BREAKERS = {
    "iso-deep-json-line": _write_all("b'[' * 200_000 + b']' * 200_000 + b'\\n'"),
    "iso-invalid-utf8-line": _write_all("b'\\xff\\xfe\\xfd{}\\n'"),
    "iso-forged-zygote-exit": _write_all("b'{\"t\": \"exit\", \"job\": 1, \"status\": 0}\\n'"),
    "iso-stray-newlines": _write_all("b'\\n\\n\\n'"),
}


def cases() -> list[Case]:
    found = [folder_case(A, student, cheat_if(attack), status="", at_most=0.0,
                         note="an escape from the job's trust domain would keep the right functions")
             for student, attack in ESCAPES.items()]
    found += [folder_case(A, student, breaks_channel(write), status="", at_most=0.0,
                          note="a line on the channel that is not the runner's: tampering, no points")
              for student, write in CHANNEL_BREAKERS.items()]
    found.append(folder_case(A, "iso-70mb-line", breaks_channel(_write_all("b'[' * (70 << 20)")), status="",
                             at_most=0.0, note="a line longer than the channel allows: output too large"))
    return found
