"""The ``kpi`` command: thin typer commands over ``kpiengine.engine.Engine``."""
