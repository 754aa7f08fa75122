"""Activities of the monitoring population, warnings and public listings."""
