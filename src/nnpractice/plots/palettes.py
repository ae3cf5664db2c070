"""Colours every reader can tell apart: the book's categorical palette and its default colormap.

Okabe and Ito's eight colours stay distinct under the common colour-vision deficiencies
(protanopia, deuteranopia, tritanopia) and in grey; viridis is perceptually uniform and stays
ordered for the same readers and in grey.

>>> OKABE_ITO[:2]
('#0072B2', '#E69F00')
"""
from __future__ import annotations

#: Okabe & Ito (2008), "Color Universal Design", ordered so the first colours, the most used, are the
#: most distinct on white: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow
#: (pale on white: used last but one) and black.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: The default colormap for values on a scale (images, heat maps without a midpoint).
SEQUENTIAL = "viridis"
