"""``emgscope bench``: the real-time figures, one module per area, measured on this machine."""
