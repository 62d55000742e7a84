"""The benchmark's Django project: settings, routes, and the Granian command-line builder."""
