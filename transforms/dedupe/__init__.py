"""The Dedupe stage: exact copies, updates of one URL or id and near-copies collapsed into one
article per story, within a run and across the dates of a lake.

``rules`` decides on one machine (pure functions); ``minhash`` and ``components`` are its
tools; ``history`` reads earlier dates' index; ``stage.Dedupe`` computes the same decisions
with Beam's combiners and shuffles.
"""
