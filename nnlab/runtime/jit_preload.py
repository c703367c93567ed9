"""Imported by the forkserver of a sweep's worker pool (executors.LocalExecutor): it compiles
or loads the fused optimizer kernels once (about 0.4 s), and every worker forked from it
starts with them instead of loading them itself."""

from .kernels import enabled

enabled()
