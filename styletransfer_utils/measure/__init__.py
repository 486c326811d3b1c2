"""Measuring results and speed.

    quality       the multi-scale measure: relative Gram errors at 512/256/128 px, content error
    benchmarking  seconds per step, peak memory, network-vs-Gatys speed tables      (04, 06)

The method never imports from here; the lessons, the command line and ``bench/`` do.
"""
