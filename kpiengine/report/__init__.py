"""施政績效報告 — achievement reports for 國發會's review, built from one report model.

``model`` turns scored KPIs into report records (pure); ``html`` renders them. Other renderers
(xlsx, pdf) read the same model.
"""
