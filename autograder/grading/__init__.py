"""Grading a class of submissions: ``python -m autograder grade SUBMISSIONS --out OUT``.

nbgrader stays the source of truth: its gradebook holds every score, its cell
metadata and checksums decide which cells are tests and restore them, and its
own preprocessors sanitize the notebooks, save the grades and build the
feedback. What this package adds around it:

- ``submissions``: finds ``SUBMISSIONS/<student>/<assignment>/*.ipynb`` or
  ``<student>.zip`` exports, unpacks zips safely, hashes what was submitted;
- ``gradebook``: the course folder in ``OUT`` (generated assignment, gradebook)
  and every nbgrader step that reads or writes the gradebook, run in the
  parent process only (one writer, however many workers);
- ``sandbox``: one bubblewrap sandbox per submission, with resource limits, a
  seccomp filter and a wall-clock timeout that kills the whole sandbox;
- ``runner``: the lean cell runner started inside the sandbox (IPython's
  InteractiveShell in a fresh Python, no kernel, no ZMQ); it decides pass or
  fail of every grade cell in its own ``try``/``except``;
- ``guard``: what the runner does so that student code cannot fake a pass
  (restored builtins and libraries, fresh checks, audit hook, reference guard);
- ``journal``: one result file per (student, assignment), written atomically
  and keyed by content hash, so that re-runs skip what did not change and an
  interrupted run resumes; ``grades.csv`` is rebuilt from it;
- ``report``: feedback HTML, progress bar and summary;
- ``batch``: puts the above together; ``cli``: the command line.
"""
