"""``python -m autograder grade ...``: see autograder/grading/cli.py."""
import sys

from autograder.grading.cli import main

sys.exit(main())
