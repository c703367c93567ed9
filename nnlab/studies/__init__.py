"""The ready-made studies of ``configs/studies/`` and ``docs/studies.md``, written from their
results (:mod:`.catalogue` holds the questions and answers, :mod:`.measure` the numbers,
:mod:`.document` the page; ``python -m nnlab.studies`` or ``make studies`` runs them)."""
