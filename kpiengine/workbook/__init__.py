"""Agency workbooks (.xlsx): templates, upload validation, reading for scoring, sample data.

All Excel code of the project lives here (and in the CLI); the pure core never sees a cell.

* ``layout``   — sheet names, machine keys (``moj.8.1:effective``), metadata fields, template version
* ``template`` — writes the protected, keyed fill-in workbook (also used for samples)
* ``safety``   — refuses unsafe uploads (not xlsx, macros, encrypted, oversized, zip bombs) before openpyxl
* ``parse``    — streams a workbook into keyed cells and metadata
* ``values``   — what a clerk typed → an exact number, per input domain (NFKC, never ``eval``)
* ``validate`` — every problem in one pass, with codes from ``errors``
* ``reader``   — ``read_workbook`` / ``collect_actuals`` for ``kpi score``
* ``validation_cache`` — ``read_workbook``'s results of unchanged workbooks, kept between runs (scoring only)
* ``sample``   — deterministic sample workbooks that light every colour, verified by the engine
"""
