"""The user's own Django project as a target: its file, source, wheelhouse and overlay.

Each module has one job: ``projectfile`` reads and checks the TOML project file,
``source`` stages the code on the controller (never writing to the user's folder),
``interpreters`` finds the host's Python, ``requirements`` turns the project's
requirements into the host's install list, ``wheelhouse`` builds it for the target
interpreter, ``overlay`` writes the harness's generated settings and entry modules, and
``prepare`` ties them together for the deploy (``python -m runner.projects.prepare``).
"""


class ProjectError(Exception):
    """Bad project input: the message is one line saying what is wrong and how to fix it."""
