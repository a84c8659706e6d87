# nbgrader looks for its configuration in the folder it runs in; the course's
# settings live in autograder/nbgrader_config.py.
load_subconfig("autograder/nbgrader_config.py")  # noqa: F821 -- provided by traitlets
