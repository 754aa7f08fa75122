"""The case API for officers (FastAPI)."""
