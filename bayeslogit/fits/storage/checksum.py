"""The checksum of a saved fit: SHA-256 of its arrays and of its metadata, so that a damaged file is refused."""

import hashlib
import json

import numpy as np


def checksum(tree, meta: dict) -> str:
    """SHA-256 of every variable of every node, in a form that survives the file formats' encodings (numbers as
    little-endian float64, anything else as text), and of the canonical JSON of ``meta`` without its checksum."""
    digest = hashlib.sha256()
    for node in sorted(tree.subtree, key=lambda node: node.path):
        variables = node.to_dataset(inherit=False).variables
        for name in sorted(variables):
            values = np.asarray(variables[name].values)
            digest.update(f"{node.path}/{name}{values.shape}".encode())
            if values.dtype.kind in "biuf":
                digest.update(values.astype("<f8").tobytes())
            else:
                digest.update("\x1f".join(map(str, values.ravel().tolist())).encode())
    canonical = {key: value for key, value in meta.items() if key != "checksum"}
    digest.update(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()
