"""Shelf and bin labels: data → layout (mm) → painted page (PDF or a QPrinter from the GUI).

``model`` (LabelData) and ``templates`` are plain data; ``layout``, ``barcode``, ``render`` and
``testprint`` paint with QtGui only. Import the module you need: this package imports nothing
at start-up.
"""
