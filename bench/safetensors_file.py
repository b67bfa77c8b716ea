"""safetensors files of PyTorch tensors, read and written by hand (Debian has no
python3-safetensors): an 8-byte little-endian header length, the JSON header (padded with
spaces to 8 bytes), the raw data. F32 and I64 only, which is all hush's files hold. Shared by
the PyTorch twins (bench/), the cross-checks (scripts/) and the reference scripts (tests/reference/)."""
import json
import struct

import numpy as np
import torch


def read_safetensors(path):
    """The file's tensors and metadata: ({name: tensor}, {key: value})."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtype).reshape(v["shape"]).copy())
    return out, header.get("__metadata__", {})


def write_safetensors(path, tensors, metadata=None):
    """{name: tensor} (float32 or int64), in name order, and string metadata when given."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
