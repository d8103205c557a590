"""Thin Prefect ``@task`` wrappers around the ``erenhot`` library: retries, artifacts, events.

No data arithmetic lives here; every task calls one library function and reports what it did.
"""
