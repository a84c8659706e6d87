"""``python -m grader grade ...`` (the same as ``python -m autograder grade ...``): see cli.py."""
import sys

from grader.cli import main

sys.exit(main())
