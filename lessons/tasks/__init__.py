"""Host-side data generators for the lessons (numpy arrays; each module cites its source).

adding        the adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015; Arjovsky et al. 2016)
copy_memory   the copy-memory task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016)
selective_copy      selective copying (Gu & Dao 2023, Mamba)
associative_recall  multi-query associative recall, MQAR (Arora et al. 2023, Zoology)
induction_heads     induction heads (Olsson et al. 2022; H3; Mamba)
dates         human-written dates in 16 locales (Babel / CLDR) -> ISO 8601
stdlib_text   a character corpus from the Python standard library's source
vocab         CharVocab, the character vocabulary the text tasks share
"""

from lessons.tasks.adding import BASELINE_MSE, adding_problem
from lessons.tasks.copy_memory import copy_memory, copy_memory_baseline, delimiter_id
from lessons.tasks.selective_copy import selective_copy
from lessons.tasks.associative_recall import associative_recall
from lessons.tasks.induction_heads import induction_heads
from lessons.tasks.dates import DateDataset, decode_targets, make_date_dataset, split_dataset
from lessons.tasks.stdlib_text import batches, split_stream, stdlib_text, stream_windows, streams
from lessons.tasks.vocab import CharVocab

__all__ = ["BASELINE_MSE", "adding_problem", "copy_memory", "copy_memory_baseline", "delimiter_id",
           "DateDataset", "decode_targets", "make_date_dataset", "split_dataset",
           "batches", "split_stream", "stdlib_text", "stream_windows", "streams", "CharVocab",
           "selective_copy", "associative_recall", "induction_heads"]
