"""Prefect flows: one module per implemented research topic, the whole-plan flow, and the CLI."""
