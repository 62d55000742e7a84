"""The harness's side of a project deploy, shipped to the app host as ``abw_project``.

``settings`` imports the project's settings and applies the overrides, ``asgi`` and
``wsgi`` are Granian's targets (the project's application inside the harness's counting
and health wrappers), ``check`` reports the settings before anything is served and
``serve`` execs Granian. ``generated`` (written by the controller) says which project;
``env``, ``serving`` and ``instrument`` are copies of the built-in app's modules.
"""
