"""Training code for manifolds (GAN decoder, then encoder).

Kept apart from the codec: encode/decode never import this package, so the
runtime needs neither the data loaders nor the training loops.
"""
