"""Erenhot (二连浩特市) territorial spatial master plan pipeline: the Prefect-free library."""
