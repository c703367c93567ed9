"""Imported only by the forkserver of a sweep's worker pool (sweep/executors.py): it compiles
or loads the fused optimizer kernels once (about 0.4 s), so every worker forked from it starts
with them; and it makes the forkserver die with the sweep that started it, so a sweep killed
with SIGKILL takes its workers along (each worker dies with the forkserver), instead of
leaving them to finish a trial and print a broken-pipe traceback into the user's terminal."""

from ..sweep.executors import die_with_parent
from .kernels import enabled

enabled()
die_with_parent()
