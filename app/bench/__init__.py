"""The benchmark's Django app: the scenarios' views, template, and the 1000-user data."""
