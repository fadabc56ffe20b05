"""Our own torch implementations of codecs that have no installable package.

Each subpackage re-implements one official architecture from its paper, its configuration and a reading
of the upstream code, with state-dict keys and shapes identical to the official checkpoints so that
those load unchanged. The modules import only torch (never ncst); the thin adapters in
`ncst.codecs.<family>` wrap them in the `Codec` interface.
"""
