"""What the notebooks use beside the method: set-up, pictures of the maths, sliders, exercises.

    notebook   the notebooks' set-up cell (modes: full, class, smoke)
    visualize  layer tables, feature-map grids, histograms, loss curves           (02-04)
    widgets    ipywidgets: the feature-map browser and the style-transfer sliders  (02, 05)
    exercises  the classroom exercises: the list, and the check a notebook's check cell runs
    answers    each exercise's inputs (fixed, or drawn afresh) and its judge against the package
    feedback   what differs, in one line that teaches (factors, the Gram reshape, loops)
    grading    exercise notebooks made from the lessons (stubs under hints)
    grader     one learner's notebook graded from outside: limits, probe, judged in the grader
    probe      the cell the grader runs in a learner's kernel: the function on the grader's inputs
    gradebook  ``styletransfer grade``: a class at once, several kernels, CSV and JSON
    handout    ``styletransfer exercises``: the exercise notebooks for learners, without the solutions
    nbgrader_export  the lessons as an nbgrader course source (solutions, locked checks, written answers)

The method (:mod:`..core`, :mod:`..gatys`, :mod:`..feedforward`) never imports from here.
"""
