"""What the notebooks use beside the method: set-up, pictures of the maths, sliders, exercises.

    notebook   the notebooks' set-up cell (modes: full, class, smoke)
    visualize  layer tables, feature-map grids, histograms, loss curves           (02-04)
    widgets    ipywidgets: the feature-map browser and the style-transfer sliders  (02, 05)
    exercises  the classroom exercises' checks: a learner's function against the package's
    grading    exercise notebooks made from the lessons; ``styletransfer grade``

The method (:mod:`..core`, :mod:`..gatys`, :mod:`..feedforward`) never imports from here.
"""
