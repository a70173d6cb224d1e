"""kpiengine — scoring engine for the Executive Yuan's annual-plan KPIs (行政院施政計畫關鍵績效指標).

Layers, pure core first (no file, Excel or CLI code in the core):

* ``numbers``   exact numbers: parsing decimal strings, half-up display rounding
* ``model``     frozen records: Agency, Kpi, Input, Target, …
* ``formula``   AST allow-list gate → sympy expression → exact and vectorised evaluation
* ``evaluation`` one KPI's actual value from its inputs, as a value or a named state
* ``scoring``   達成度 per direction, lights, states, from a policy
* ``catalog``   loads ``formulas/`` and ``targets/`` and checks them (I/O layer)
* ``cli``       the ``kpi`` command
"""

__version__ = "0.1.0"
