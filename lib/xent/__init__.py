"""xent: softmax and cross-entropy, exact and small.

The one shared library of the book *Softmax and Cross-Entropy, in Depth*.
Every chapter imports it; every function names the chapter that derives it.
"""
