"""minigrad lessons: numbered experiments that answer one question each.

Each lesson is a percent-format script ``lessons/NN_topic.py`` (``# %%`` cells) that runs
with ``python -m lessons NN`` and opens as a notebook through jupytext. ``lessons._shared``
holds what every lesson calls at its top; ``lessons.tasks`` generates the data sets
(adding problem, copy memory, dates, Python standard-library text). See lessons/README.md.
"""
