"""Jiuzhu infrastructure shared by the API, the worker and activities (settings, logging, DB)."""
