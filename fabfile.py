"""`fab --list` is the menu: the runner's tasks live in runner/tasks.py."""

from runner.tasks import namespace

ns = namespace
