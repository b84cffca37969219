"""ONNX files as specs: a model's graph read into the same `Document` a spec parses to, so
that every calculator works on it unchanged.

`model.py` reads the file (shapes only: weights stay bytes, external data is not opened)
and folds constants; `operators.py` maps each ONNX operator onto the op table. The `onnx`
package is an optional extra (`pip install "netcalc[onnx]"`), imported only here.
"""
