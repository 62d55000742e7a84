"""Granian's WSGI target: ``granian --interface wsgi abw_project.wsgi:application``."""

from abw_project.entry import load

application = load("wsgi")
