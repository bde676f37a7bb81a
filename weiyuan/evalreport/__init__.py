"""``weiyuan eval all``: every quality and speed figure in one dated report, compared with the last one.

The sections (retrieval and calibration, Rasa's NLU and story tests, the dialogue
evaluation on the real stack, the benchmarks' key figures) each return a
:class:`~weiyuan.evalreport.model.Section`; :mod:`weiyuan.evalreport.report`
writes them as Markdown with plots and a summary table against the previous
report of the same mode.
"""
