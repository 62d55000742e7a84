"""Granian's ASGI target: ``granian --interface asginl abw_project.asgi:application``."""

from abw_project.entry import load

application = load("asgi")
