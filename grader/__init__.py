"""Grading a class of submissions: ``python -m autograder grade SUBMISSIONS --out OUT``.

No learner code runs where a score is decided. The learner's cells run in a
bubblewrap sandbox; what comes back is data (the probes' records); every
verdict is computed outside it, in a worker process of the course's own code. nbgrader stays the source of
truth: its gradebook holds every score, its cell metadata and checksums decide
which cells are tests and restore them, and its own preprocessors sanitize the
notebooks, save the grades and build the feedback. The modules:

- ``submissions``: finds ``SUBMISSIONS/<student>/<assignment>/*.ipynb`` or
  ``<student>.zip`` exports, unpacks zips safely, hashes what was submitted;
  any usable student id gets a row, an unusable one a row with its reason;
- ``gradebook``: the course folder in ``OUT`` (generated assignment, gradebook)
  and every nbgrader step that reads or writes a gradebook; the head is the
  only writer of the real one (one transaction per submission);
- ``policy``: reads the learner's cells: hidden code, forbidden references;
- ``cells``: grade cells on the trusted side: the probes they ask for (fresh
  seeds) and, on the records, the verdicts;
- ``work``: one submission graded in a worker process (on this machine, or on
  a Dask cluster's worker): nbgrader's steps on the worker's own copy of the
  gradebook, the sandbox run, the verdicts, the feedback page; returns data;
- ``sandbox``: the bubblewrap sandbox, holding only the exercise's libraries,
  read-only but for a capped ``/tmp``, with a wall-clock timeout that kills
  it; each worker keeps one warm per set of libraries (``WarmSandbox``);
- ``zygote``: the warm interpreter inside a sandbox: imports once, forks a
  child per notebook, which enters its own ``/tmp``, limits, capability-less
  state and seccomp filter before any learner code runs;
- ``seccomp``: the filter (no new processes, no ``ptrace``);
- ``runner``: the cell runner in each child (IPython's InteractiveShell):
  runs the learner's cells and the probes, sends records;
- ``journal``: one result file per (student, assignment), written atomically
  and keyed by content hash and the grader's own code, so that re-runs skip
  what did not change and an interrupted run resumes; ``grades.csv``;
- ``report``: progress bar and summary; ``class_report``, ``exports``: the
  class report and the LMS grade files;
- ``batch``: the head: puts the above together, locally or with Dask;
  ``cli``: the command line.

The checks themselves (probe and verdict halves) are in the ``autograder``
package, which grade cells import; this package is never imported by them.
"""
