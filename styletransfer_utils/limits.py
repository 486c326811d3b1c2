"""The size limits of the package, in one place, each with what it guards.

Every check of a picture's or a setting's size reads its limit from here, so a message such as
"use at least 16 pixels" and the check behind it cannot drift apart.
"""

#: Smallest side of a picture *file* that ``images.load_image`` accepts by default. Smaller files
#: are almost always icons or thumbnails given by mistake.
MIN_PICTURE_SIDE = 32

#: Smallest ``Settings.size`` (the output's long side): VGG19 halves a picture five times, so
#: below 32 px its deepest maps have no pixel left.
MIN_SIZE = 32

#: Largest ``Settings.size``, and the largest a style picture may become through
#: ``style_scale``: beyond it one VGG19 pass needs more memory than a workstation has.
MAX_SIZE = 4096

#: Smallest *short* side of the content picture at the run's size: VGG19 halves it four times
#: before block5, whose layers need at least one pixel (a wide panorama at a small size fails).
MIN_VGG_SHORT_SIDE = 16

#: Smallest side the feed-forward network takes: its reflection padding needs a few pixels at
#: its coarsest resolution (a quarter of the input).
MIN_NETWORK_SIDE = 8

#: Longest side to which style pictures are capped when read from a file (a larger style
#: picture is resized to the run's size anyway; this only bounds decoding).
MAX_STYLE_DECODE = 2048
