"""Entropy coding: coders that know intervals and bytes, models that turn context into probabilities.

- :mod:`.arith`  binary arithmetic coder (32-bit, carry-less, 16-bit probabilities)
- :mod:`.models` adaptive probability estimators, stretch/squash, logistic mixing
- :mod:`.bitio`  bit-level writer and reader for prefix codes
- :mod:`.varint` LEB128 variable-length integers
"""
