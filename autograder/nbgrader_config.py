"""nbgrader settings for the course.

nbgrader reads ``nbgrader_config.py`` from the folder it runs in; the one at
the top of the repository loads this file, so the settings live here, next to
the checks they belong with.
"""
c = get_config()  # noqa: F821 -- provided by traitlets when it loads the file

c.CourseDirectory.course_id = "normreg"
# Solutions are the hand-written source; exercises are what learners get.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Notebooks only: nothing else in solutions/<assignment>/ is released or graded.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Every chapter's solution runs in well under a minute; a cell that takes longer is stuck.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# The stub that replaces a solution region in the exercise (nbgrader's default, spelled out).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback never shows the source of hidden tests: shorten their tracebacks to the
# check's message, then let nbgrader strip the hidden region from the cell.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.feedback.ShortenHiddenTracebacks",
    "autograder.feedback.SanitizeMarkdown",
    "autograder.feedback.BookLinks",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Feedback shows the learner's outputs and markdown: strip scripts and event handlers from their HTML.
c.HTMLExporter.sanitize_html = True

# Feedback pages work offline: the course's template (autograder/templates) replaces nbgrader's, which loads
# MathJax from a CDN, by one that loads nothing; formulas are written as MathML when the page is made
# (autograder.feedback.strip_files_prefix_with_mathml, in place of the nbconvert filter that nbgrader's
# template applies to markdown cells), which every current browser draws without a script.
import os as _os  # noqa: E402

import nbgrader as _nbgrader  # noqa: E402

c.HTMLExporter.template_name = "course_feedback"
c.HTMLExporter.filters = {"strip_files_prefix": "autograder.feedback.strip_files_prefix_with_mathml",
                          "tr": "autograder.feedback.translate", "notebook_lang": "autograder.feedback.notebook_lang"}
c.HTMLExporter.extra_template_basedirs = [
    _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "templates"),
    _os.path.join(_os.path.dirname(_nbgrader.__file__), "server_extensions", "formgrader", "templates"),
]

# A Korean notebook (exercises/ko/, metadata.normreg.language = "ko") is the same assignment as the English one:
# autograde puts the release's (English) source back into its locked cells, then RestoreLanguage puts their
# Korean words back (autograder/notebooks.py; words only, never a check), so that its kernel, outputs and
# feedback page speak Korean (`nbgrader generate_feedback` reads the language from the notebook's metadata).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograder.notebooks.RestoreLanguagePreprocessor",
    "nbgrader.preprocessors.CheckCellMetadata",
]
