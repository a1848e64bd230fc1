"""The book's explorers, one module per kind: traits (the state) and ``compute`` (with xent).

Each module ``xent.explorers.<kind>`` pairs with the view ``xent/web_assets/explorers/<kind>.js``
and is reached as ``xent.web.<kind>_explorer``. The engine and the recipe for a new kind are in
:mod:`xent.web`.
"""
