"""What a job can write, execute and read of the sandbox's file system (``grader/sandbox.py``, ``zygote.private_tmp``).

As in ``isolation.py``, most are cheats that pay only if the boundary breaks:
the notebook keeps the correct functions only when its attack worked, and
otherwise replaces them with wrong ones, so each must score 0.

- ``mnt-native-extension``: a shared library shipped in the submission's
  folder (a real extension module of this machine's Python or NumPy) and
  loaded from the job's ``/tmp/submission``: the job's ``/tmp`` is
  ``noexec``, so it never maps (native code would run beneath the audit
  hook); ``test_grade_batch`` checks the loader's refusal in its outputs;
- ``mnt-dev-a-leave`` / ``mnt-dev-b-find``: a file written in ``/dev``
  (bubblewrap's ``--dev`` tmpfs, uncapped and shared by every job of a
  warm sandbox) and looked for by a later job: ``/dev`` is read-only;
- ``mnt-write-anywhere``: a file in every place but ``/tmp`` (``/dev``,
  ``/dev/shm``, ``/var``, ``/etc``, ``/opt``, ``/``, ``/run``, ``/home``);
- ``mnt-read-the-machine``: the grading machine's ``/var``, ``/opt``,
  ``/boot``, top-level files (``/container_info.json``) and the secrets of
  ``/etc`` (``shadow``, ``machine-id``, ``hostname``): all empty or absent;
- ``mnt-raises-memory-error``: correct work and a cell that raises
  ``MemoryError`` itself: full marks and ``graded`` (a row's memory status
  comes from the worker's own observation of the job, never from an
  exception name the notebook can raise).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.grading.submissions.common import Case, folder_case, insert_after, solution
from tests.grading.submissions.isolation import cheat_if
from tests.grading.submissions.normalization import A


def an_extension_module() -> tuple[str, Path] | None:
    """(module name, file) of a compiled extension module of this interpreter's own (or NumPy's), if any."""
    for name in ("_bisect", "_json", "_heapq", "_random", "_csv", "numpy.core._multiarray_tests",
                 "numpy._core._multiarray_tests"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin and spec.origin.endswith(".so"):
            return name.rsplit(".", 1)[-1], Path(spec.origin)
    return None


def load_extension(name: str, filename: str) -> str:
    """Notebook code that loads the extension module ``filename`` of the job's folder and prints what happened."""
    return (f"import importlib.util\n_spec = importlib.util.spec_from_file_location({name!r}, "
            f"'/tmp/submission/native/' + {filename!r})\n"
            "try:\n    _native = importlib.util.module_from_spec(_spec)\n    print('native: loaded')\n    ok = True\n"
            "except ImportError as _error:\n    print('native: refused:', _error)\n    ok = False\n")


WRITE_PLACES = ("/dev", "/dev/shm", "/var", "/var/tmp", "/etc", "/opt", "", "/run", "/home", "/proc/self")


def _write_anywhere() -> str:
    lines = ["ok = False"]
    for place in WRITE_PLACES:  # one constant path each: a computed one would be read as hidden code
        lines += ["try:", f"    open('{place}/mnt-written', 'w').write('x')", "    ok = True", "except OSError:",
                  "    pass"]
    return "\n".join(lines)


READ_THE_MACHINE = """from pathlib import Path
_seen = []
for _top in (Path('/var'), Path('/opt'), Path('/boot')):
    try:
        _seen += [str(p) for p in _top.iterdir()]
    except OSError:
        pass
for _top in Path('/').iterdir():
    if _top.is_file() and not _top.is_symlink():
        try:
            _seen.append(_top.read_bytes()[:100])
        except OSError:
            pass
for _secret in (Path('/etc/shadow'), Path('/etc/machine-id'), Path('/etc/hostname'), Path('/etc/ssh')):
    if _secret.exists():
        _seen.append(str(_secret))
print('seen of the machine:', _seen)
ok = bool(_seen)"""


def cases() -> list[Case]:
    found = []
    extension = an_extension_module()
    if extension is not None:
        name, path = extension
        found.append(folder_case(A, "mnt-native-extension", cheat_if(load_extension(name, path.name)), status="",
                                 extra_files={f"native/{path.name}": path.read_bytes()},
                                 note="a shared library in the submission's folder: the job's /tmp is noexec"))
    found += [
        folder_case(A, "mnt-dev-a-leave", cheat_if("open('/dev/mnt-mark', 'w').write('left for the next job')\nok = True"),
                    status="", note="a file in /dev (shared by the jobs of a warm sandbox): read-only"),
        folder_case(A, "mnt-dev-b-find", cheat_if("from pathlib import Path\nok = Path('/dev/mnt-mark').exists()"),
                    status="", note="a file an earlier job left in /dev: none can"),
        folder_case(A, "mnt-write-anywhere", cheat_if(_write_anywhere()), status="",
                    note="a file anywhere but /tmp: every other mount is read-only"),
        folder_case(A, "mnt-read-the-machine", cheat_if(READ_THE_MACHINE), status="",
                    note="the machine's /var, /opt, /boot, top-level files and /etc's secrets: not in the sandbox"),
        folder_case(A, "mnt-raises-memory-error",
                    insert_after(solution(A), "z_score_transform", "raise MemoryError('made up by the notebook')"),
                    status="graded", full_marks=True,
                    note="a MemoryError the notebook raises itself: no memory status (the worker did not see the "
                         "limit reached)"),
    ]
    return found
