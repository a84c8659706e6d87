"""Grading a class of submissions: ``python -m autograder grade SUBMISSIONS --out OUT``.

No learner code runs where a score is decided. The learner's cells run in a
bubblewrap sandbox; what comes back is data (the probes' records); every
verdict is computed here, in the grading process. nbgrader stays the source of
truth: its gradebook holds every score, its cell metadata and checksums decide
which cells are tests and restore them, and its own preprocessors sanitize the
notebooks, save the grades and build the feedback. The modules:

- ``submissions``: finds ``SUBMISSIONS/<student>/<assignment>/*.ipynb`` or
  ``<student>.zip`` exports, unpacks zips safely, hashes what was submitted;
  any usable student id gets a row, an unusable one a row with its reason;
- ``gradebook``: the course folder in ``OUT`` (generated assignment, gradebook)
  and every nbgrader step that reads or writes the gradebook, in this process
  only (one writer, however many workers);
- ``policy``: reads the learner's cells: hidden code, forbidden references;
- ``cells``: grade cells on the trusted side: the probes they ask for (fresh
  seeds) and, on the records, the verdicts;
- ``sandbox``: one bubblewrap sandbox per notebook, holding only the
  exercise's libraries, read-only but for a capped ``/tmp``, with resource
  limits, a seccomp filter and a wall-clock timeout that kills it;
- ``runner``: the cell runner inside the sandbox (IPython's InteractiveShell
  in a fresh Python): runs the learner's cells and the probes, sends records;
- ``journal``: one result file per (student, assignment), written atomically
  and keyed by content hash and the grader's own code, so that re-runs skip
  what did not change and an interrupted run resumes; ``grades.csv``;
- ``report``: progress bar and summary;
- ``batch``: puts the above together; ``cli``: the command line.

The checks themselves (probe and verdict halves) are in the ``autograder``
package, which grade cells import; this package is never imported by them.
"""
