"""Lesson code that a later chapter reuses, written once where a chapter teaches it and
imported from here by the chapters after it (d2l's ``#@save`` idea). Each function here
is, to the character, the one in its chapter's notebook; a test keeps the two the same.
"""

import numpy as np

# From book/en/03_delta_recurrence.ipynb, the output layer's activations.


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


TAUGHT_IN = {"sigmoid": "03_delta_recurrence"}  # where each function is taught
