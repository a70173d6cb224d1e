"""The web portal (``kpi serve``): a thin ASGI layer over the same engine, ledger and reports as the CLI.

``app`` wires middleware and error pages, ``security`` guards requests (sessions, CSRF, headers,
size limit, sign-in throttle), ``auth`` decides who may do what, ``cycle`` asks the reporting
cycle, ``routes`` renders pages. No score, rule or identity check is computed here twice.
"""
